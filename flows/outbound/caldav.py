"""Publish calendar objects to a CalDAV collection, one resource per UID (RFC 4791).

Conditional requests keep concurrent editors safe: ``If-None-Match: *`` when creating and
``If-Match: <etag>`` when replacing or deleting, so a resource changed on the server since the
last publish is reported, never overwritten. The client never touches local data; on failure
the partial result says what did reach the server so the caller can record it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import quote

import httpx

from flows.domain.slug import slugify

_CALENDAR_TYPE = "text/calendar; charset=utf-8"
_MKCALENDAR_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>amity</D:displayname></D:prop></D:set>
</C:mkcalendar>
"""
_REASONS = {
    409: "conflict: the collection is missing or the server refused the object",
    412: "changed on the server since the last publish (precondition failed)",
}


def digest(data: bytes) -> str:
    """The content fingerprint stored next to the etag, to skip unchanged objects."""
    return hashlib.sha256(data).hexdigest()


def resource_name(uid: str) -> str:
    """The file name of the resource holding ``uid`` (stable, safe in a URL)."""
    return f"{slugify(uid)}.ics"


@dataclass(frozen=True)
class Published:
    """What is remembered about an object on the server after publishing it."""

    etag: str
    digest: str


@dataclass(frozen=True)
class Failure:
    uid: str
    method: str
    url: str
    status: int | None
    reason: str

    def __str__(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        return f"{self.method} {self.url}: {status} — {self.reason}"


@dataclass
class PublishResult:
    """What the server holds after a publish, and what happened to each UID."""

    #: uid -> etag and digest of every object now on the server (keep these for next time)
    published: dict[str, Published] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class CalDavError(Exception):
    """Some resources could not be written; ``result`` holds what did succeed."""

    def __init__(self, result: PublishResult) -> None:
        self.result = result
        lines = "\n".join(f"  {failure}" for failure in result.failures)
        super().__init__(f"CalDAV publish failed for {len(result.failures)} resource(s):\n{lines}")


class CalDavClient:
    """A CalDAV calendar collection at ``url`` (ending in ``/``)."""

    def __init__(
        self, url: str, user: str | None = None, password: str | None = None, timeout: float = 30
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        auth = httpx.BasicAuth(user, password or "") if user else None
        # An explicit timeout: a Prefect task timeout cannot interrupt blocking socket I/O.
        self._http = httpx.Client(auth=auth, timeout=timeout)

    def __enter__(self) -> CalDavClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def resource_url(self, uid: str) -> str:
        return self.url + quote(resource_name(uid))

    def ensure_calendar(self) -> bool:
        """Create the collection if it does not exist; True when it was created."""
        probe = self._http.request("PROPFIND", self.url, headers={"Depth": "0"})
        if probe.status_code in (200, 207):
            return False
        if probe.status_code != 404:
            raise CalDavError(_single("", "PROPFIND", self.url, probe))
        made = self._http.request("MKCALENDAR", self.url, content=_MKCALENDAR_BODY)
        if made.status_code != 201:
            raise CalDavError(_single("", "MKCALENDAR", self.url, made))
        return True

    def publish(
        self, objects: Mapping[str, bytes], *, known: Mapping[str, Published]
    ) -> PublishResult:
        """Make the collection hold exactly ``objects`` (uid -> one VCALENDAR each).

        ``known`` is the ``published`` map of the previous result. Unchanged objects are not
        sent; UIDs in ``known`` but not in ``objects`` are deleted. Raises CalDavError after
        trying every object if any failed.
        """
        result = PublishResult()
        for uid, data in objects.items():
            fingerprint = digest(data)
            previous = known.get(uid)
            if previous is not None and previous.digest == fingerprint:
                result.published[uid] = previous
                result.unchanged.append(uid)
                continue
            url = self.resource_url(uid)
            condition = (
                {"If-Match": previous.etag} if previous is not None else {"If-None-Match": "*"}
            )
            response = self._send(
                result, uid, "PUT", url, data, {"Content-Type": _CALENDAR_TYPE, **condition}
            )
            if response is None:
                if previous is not None:
                    result.published[uid] = previous  # the server still holds the old one
                continue
            etag = response.headers.get("ETag") or self._etag(url)
            result.published[uid] = Published(etag, fingerprint)
            (result.updated if previous is not None else result.created).append(uid)
        for uid in sorted(known.keys() - objects.keys()):
            url = self.resource_url(uid)
            response = self._send(result, uid, "DELETE", url, None, {"If-Match": known[uid].etag})
            if response is None:
                result.published[uid] = known[uid]
            else:
                result.deleted.append(uid)
        if result.failures:
            raise CalDavError(result)
        return result

    def _send(
        self,
        result: PublishResult,
        uid: str,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response | None:
        try:
            response = self._http.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as error:
            result.failures.append(
                Failure(uid, method, url, None, f"{type(error).__name__}: {error}")
            )
            return None
        if method == "DELETE" and response.status_code == 404:
            return response  # already gone: the goal is reached
        if response.is_success:
            return response
        result.failures.append(_failure(uid, method, url, response))
        return None

    def _etag(self, url: str) -> str:
        # Some servers answer a PUT without an ETag; ask for it rather than guess.
        response = self._http.head(url)
        return response.headers.get("ETag", "")


def _failure(uid: str, method: str, url: str, response: httpx.Response) -> Failure:
    status = response.status_code
    if status in _REASONS:
        reason = _REASONS[status]
    elif status >= 500:
        reason = f"server error ({response.reason_phrase}); try again later"
    else:
        reason = response.reason_phrase or "refused"
    body = response.text.strip().splitlines()
    if body:
        reason = f"{reason}: {body[0][:200]}"
    return Failure(uid, method, url, status, reason)


def _single(uid: str, method: str, url: str, response: httpx.Response) -> PublishResult:
    return PublishResult(failures=[_failure(uid, method, url, response)])
