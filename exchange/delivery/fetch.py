"""Fetching a mounted API's response through the exchange, bounded in time and size.

The body is spooled to a temporary file (in memory while small, on disk beyond) as UTF-8, so a
source that hangs or sends gigabytes fails here, before a single byte is delivered, and memory
stays flat whatever the source sends.
"""

from __future__ import annotations

import codecs
import tempfile
import time
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

import httpx

from .errors import SourceTimeout, SourceTooLarge, SourceUnreadable

SPOOL_IN_MEMORY = 1 << 20
ACCEPT = "application/json, text/csv;q=0.9"


@dataclass
class Download:
    body: IO[bytes]  # UTF-8, positioned at its start
    kind: str  # "json" or "csv"
    size: int


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float
    read_timeout: float  # longest silence between two reads
    total_timeout: float  # longest the whole download may take
    max_bytes: int


def download(url: str, limits: FetchLimits) -> Download:
    """GET ``url`` and spool its body; every failure is a delivery error that names the API."""
    shown = shown_url(url)
    try:
        with _client(limits) as client, client.stream("GET", url) as response:
            _check_response(response, shown, limits)
            body, size = _spool(response, shown, limits)
    except httpx.TimeoutException:
        raise SourceTimeout(f"接口 {shown} 超时未响应（连接 {limits.connect_timeout:g} 秒，"
                            f"读取 {limits.read_timeout:g} 秒）") from None
    except httpx.HTTPError as exc:
        raise SourceUnreadable(f"无法访问接口 {shown}：{exc}") from None
    return Download(body=body, kind=_kind(response, body, shown), size=size)


def shown_url(url: str) -> str:
    """The API's address fit for an error message: no credentials, no query (it may hold a key)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _client(limits: FetchLimits) -> httpx.Client:
    timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
    headers = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
    return httpx.Client(timeout=timeout, headers=headers, follow_redirects=False, trust_env=False)


def _check_response(response: httpx.Response, shown: str, limits: FetchLimits) -> None:
    if not response.is_success:
        raise SourceUnreadable(f"接口 {shown} 返回 HTTP {response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(shown, limits)


def _spool(response: httpx.Response, shown: str, limits: FetchLimits) -> tuple[IO[bytes], int]:
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        size = _copy(response, body, shown, limits)
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body, size


def _copy(response: httpx.Response, body: IO[bytes], shown: str, limits: FetchLimits) -> int:
    deadline, size = time.monotonic() + limits.total_timeout, 0
    recode = _recoder(response.charset_encoding)
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise _too_large(shown, limits)
        if time.monotonic() > deadline:
            raise SourceTimeout(f"接口 {shown} 在 {limits.total_timeout:g} 秒内未传完数据")
        body.write(recode(chunk))
    body.write(recode(b"", final=True))
    return size


def _recoder(charset: str | None):
    """Bytes of the declared charset → UTF-8 bytes (GBK is common in government systems)."""
    name = codecs.lookup(charset or "utf-8").name if _known(charset) else "utf-8"
    if name == "utf-8":
        return lambda chunk, final=False: chunk
    decoder = codecs.getincrementaldecoder(name)(errors="replace")
    return lambda chunk, final=False: decoder.decode(chunk, final).encode("utf-8")


def _known(charset: str | None) -> bool:
    try:
        return bool(charset) and bool(codecs.lookup(charset))
    except LookupError:
        return False


def _too_large(shown: str, limits: FetchLimits) -> SourceTooLarge:
    return SourceTooLarge(f"接口 {shown} 返回的数据超过上限 {limits.max_bytes / (1 << 20):g} MiB")


def _kind(response: httpx.Response, body: IO[bytes], shown: str) -> str:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "csv" in media:
        return "csv"
    if "json" in media or _first_byte(body) in (b"[", b"{"):
        return "json"
    body.close()
    raise SourceUnreadable(f"接口 {shown} 返回的不是 JSON 或 CSV 数据（{media or '未声明类型'}）")


def _first_byte(body: IO[bytes]) -> bytes:
    head = body.read(64).lstrip(codecs.BOM_UTF8).lstrip()
    body.seek(0)
    return head[:1]
