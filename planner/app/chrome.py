"""Streamlit's own words on screen, in Chinese where Streamlit allows it.

The toolbar's developer options (Deploy, Rerun, Clear cache, the ⋮ menu) are
hidden by ``client.toolbarMode = "minimal"`` in ``.streamlit/config.toml``
(run Streamlit from the project folder). Streamlit has no setting for the
language of its file uploader ("Drag and drop files here", "Upload",
"200MB per file"), so a style sheet hides those words and writes Chinese ones
in their place (:data:`UPLOADER_CSS`); the app says the size limit in the
uploader's own label too, in case a later Streamlit changes its markup.
"""

from __future__ import annotations

__all__ = ["UPLOADER_CSS", "use_chinese_chrome"]

#: Chinese in place of the file uploader's English (the data-testid names are Streamlit's); {limit} is in MB.
UPLOADER_CSS = """
<style>
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::before {{
  content: "将文件拖放到此处，或点击“选择文件”"; display: block; margin-bottom: 0.25rem;
}}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{
  content: "可多选；每个文件不超过 {limit} MB"; display: block; font-size: 0.85em; opacity: 0.7;
}}
[data-testid="stFileUploaderDropzone"] button {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button * {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button::after {{ content: "选择文件"; font-size: 0.875rem; }}
</style>
"""


def use_chinese_chrome() -> None:
    """Put the style sheet of :data:`UPLOADER_CSS` on the page (no visible element), with the upload limit."""
    import streamlit as st

    st.html(UPLOADER_CSS.format(limit=int(st.get_option("server.maxUploadSize"))))
