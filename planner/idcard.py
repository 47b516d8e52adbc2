"""Chinese resident identity numbers and mobile phone numbers.

The 18-digit resident ID (GB 11643-1999) ends in an ISO 7064 MOD 11-2 check
character; a wrong one is the commonest typing error in the worker lists.
"""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def id_check_char(first17: str) -> str:
    """Return the check character ('0'-'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        msg = f"expected 17 digits, got {len(first17)} characters"
        raise ValueError(msg)
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def id_number_problem(value: str) -> str | None:
    """Say what is wrong with an 18-digit resident ID, or None when it is valid.

    Checks the shape, the birth date and the check character. The message never
    repeats the number itself (personal data stays out of reports and logs).
    """
    v = value.strip().upper()
    if not _ID_RE.match(v):
        return "身份证号应为18位（17位数字加校验位）"
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if born.year < 1900 or born > date.today():
        return "身份证号中的出生日期无效"
    if id_check_char(v[:17]) != v[17]:
        return "身份证号校验位错误"
    return None


def mask_id_number(value: str) -> str:
    """Mask an ID number, keeping the first 6 and last 4 characters."""
    v = str(value)
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def phone_problem(value: str) -> str | None:
    """Say what is wrong with a mainland mobile number, or None when it is valid."""
    v = re.sub(r"[\s-]", "", str(value))
    if v.startswith("+86"):
        v = v[3:]
    if not PHONE_RE.match(v):
        return "手机号应为11位、以1开头"
    return None
