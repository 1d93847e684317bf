"""Codes of the national standards: 统一社会信用代码 (GB 32100), region codes (GB/T 2260) and
resource codes of the catalog (前段码/后段码).

All parsers return the normalised code or raise ``ValueError`` with a message fit for a user.
"""

from __future__ import annotations

import re
import unicodedata

# GB 32100-2015: 18 characters from 31 symbols (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")

REGION_SHAPE = re.compile(r"^[1-8]\d{5}$")
# 前段码: classification digits/letters; 后段码: a sequence number within it.
RESOURCE_CODE_SHAPE = re.compile(r"^([0-9A-Z]{2,32})/(\d{4,12})$")
SEQUENCE_DIGITS = 6


def _fold(raw: str) -> str:
    return unicodedata.normalize("NFKC", str(raw)).strip().upper()


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: str) -> str:
    """Validate a 统一社会信用代码: shape, alphabet and check character."""
    code = _fold(raw)
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码“{raw}”应为18位，实际{len(code)}位")
    if not _USCC_SHAPE.match(code):
        bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
        raise ValueError(f"统一社会信用代码“{raw}”含有不允许的字符：{''.join(bad)}")
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValueError(f"统一社会信用代码“{raw}”校验位错误，应为“{expected}”")
    return code


def make_uscc(region_code: str, serial: int, *, registry: str = "11") -> str:
    """Compose a valid code for an organ of state (登记管理部门 1, 机关 1) from a region and a serial.

    Used for demo and synthetic data; real departments bring their own codes.
    """
    body = f"{registry}{region_code}{serial:09d}"
    return body + uscc_check_character(body)


def parse_region_code(raw: str) -> str:
    code = _fold(raw)
    if not REGION_SHAPE.match(code):
        raise ValueError(f"行政区划代码“{raw}”应为6位数字（GB/T 2260）")
    return code


def parse_resource_code(raw: str) -> tuple[str, str]:
    """Split a resource code into (前段码, 后段码); raise if malformed."""
    code = _fold(raw).replace("／", "/")
    match = RESOURCE_CODE_SHAPE.match(code)
    if not match:
        raise ValueError(
            f"信息资源代码“{raw}”格式错误，应为“前段码/后段码”，如 33100201/000001"
        )
    return match.group(1), match.group(2)


def format_resource_code(front: str, sequence: int) -> str:
    return f"{front}/{sequence:0{SEQUENCE_DIGITS}d}"
