"""The browser app (``streamlit run app.py``): map, county, township, province and trace views.

``deck`` builds the pydeck map, ``views`` the numbers and tables each page shows;
neither imports Streamlit, so both are tested without a browser.
"""
