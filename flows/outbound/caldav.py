"""Publish calendar objects to a CalDAV collection, one resource per UID (RFC 4791).

Before writing, the client reads what the collection holds (PROPFIND, Depth 1, each
resource's ETag) and compares it with what amity last wrote (``known``):

- a resource missing on the server is created again (a file deleted there heals on the next
  publish, even when amity's copy did not change);
- a resource whose ETag differs from the one amity last wrote was changed by someone else:
  it is reported with both ETags and left alone, unless ``force``;
- the rest is written with conditional requests (``If-None-Match: *`` when creating,
  ``If-Match: <etag>`` when replacing or deleting), so a change made between the listing
  and the write is still never overwritten; a 412 on a resource that is gone by then is
  retried as a create.

The client never touches local data; on failure the partial result says what did reach the
server so the caller can record it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import quote, unquote, urlsplit

import httpx
from defusedxml import ElementTree as SafeET

from flows.domain.slug import slugify

_CALENDAR_TYPE = "text/calendar; charset=utf-8"
_MKCALENDAR_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>amity</D:displayname></D:prop></D:set>
</C:mkcalendar>
"""
_PROPFIND_ETAGS = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>
"""
_DAV = "{DAV:}"
_REASONS = {
    409: "conflict: the collection is missing or the server refused the object",
    412: "changed on the server since the last publish (precondition failed)",
}


def digest(data: bytes) -> str:
    """The content fingerprint stored next to the etag, to skip unchanged objects."""
    return hashlib.sha256(data).hexdigest()


def same_etag(a: str, b: str) -> bool:
    """Whether two ETags name the same version (a listing may mark one weak: W/"x")."""

    def bare(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return bare(a) == bare(b)


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
    #: for a resource changed by someone else: the ETag amity last wrote, and the server's
    ours: str | None = None
    theirs: str | None = None

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
    #: of ``created``: resources amity had written that were missing on the server
    restored: list[str] = field(default_factory=list)
    #: resources changed on the server by someone else (also in ``failures``); left alone
    conflicts: list[Failure] = field(default_factory=list)
    #: of ``updated`` and ``deleted``: someone else's version overwritten (``force``)
    overwritten: list[str] = field(default_factory=list)
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

    def server_etags(self) -> dict[str, str] | None:
        """Resource name -> ETag of every object in the collection; None when the server
        does not answer the listing (publishing then relies on conditional requests alone)."""
        try:
            response = self._http.request(
                "PROPFIND",
                self.url,
                content=_PROPFIND_ETAGS,
                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 207:
            return None
        try:
            root = SafeET.fromstring(response.content)
        except SafeET.ParseError:
            return None
        collection = urlsplit(self.url).path
        etags: dict[str, str] = {}
        for item in root.iter(f"{_DAV}response"):
            href = unquote(urlsplit(item.findtext(f"{_DAV}href", "")).path)
            if not href or href.rstrip("/") == collection.rstrip("/"):
                continue
            etag = next(
                (
                    (prop.text or "")
                    for prop in item.iter(f"{_DAV}getetag")
                    if prop.text and prop.text.strip()
                ),
                "",
            )
            etags[href.rstrip("/").rsplit("/", 1)[-1]] = etag.strip()
        return etags

    def publish(
        self, objects: Mapping[str, bytes], *, known: Mapping[str, Published], force: bool = False
    ) -> PublishResult:
        """Make the collection hold exactly ``objects`` (uid -> one VCALENDAR each).

        ``known`` is the ``published`` map of the previous result. Objects unchanged here and
        on the server are not sent; objects missing on the server are created again; UIDs in
        ``known`` but not in ``objects`` are deleted. An object changed on the server by
        someone else is reported (both ETags) and left alone, unless ``force``. Raises
        CalDavError after trying every object if any failed.
        """
        result = PublishResult()
        on_server = self.server_etags()
        for uid, data in objects.items():
            self._publish_one(result, uid, data, known.get(uid), on_server, force=force)
        for uid in sorted(known.keys() - objects.keys()):
            self._delete_one(result, uid, known[uid], on_server, force=force)
        if result.failures:
            raise CalDavError(result)
        return result

    def _publish_one(
        self,
        result: PublishResult,
        uid: str,
        data: bytes,
        previous: Published | None,
        on_server: Mapping[str, str] | None,
        *,
        force: bool,
    ) -> None:
        fingerprint = digest(data)
        url = self.resource_url(uid)
        theirs = None if on_server is None else on_server.get(resource_name(uid))
        if on_server is not None and theirs is None:
            # not on the server (deleted there, or never written): create it
            self._put(result, uid, url, data, fingerprint, previous, None, restored=True)
            return
        if previous is None:
            if theirs is not None and self._holds(url, fingerprint):
                # already there with our bytes (e.g. a publish whose answer was lost)
                result.published[uid] = Published(theirs, fingerprint)
                result.unchanged.append(uid)
                return
            if theirs is not None and force:
                self._put(result, uid, url, data, fingerprint, None, theirs, overwrite=True)
                return
            self._put(result, uid, url, data, fingerprint, None, None)
            return
        if theirs is not None and not same_etag(theirs, previous.etag):
            if force:
                self._put(result, uid, url, data, fingerprint, previous, theirs, overwrite=True)
            else:
                self._conflict(result, uid, "PUT", url, previous, theirs)
            return
        if previous.digest == fingerprint:
            result.published[uid] = previous
            result.unchanged.append(uid)
            return
        self._put(result, uid, url, data, fingerprint, previous, previous.etag)

    def _put(
        self,
        result: PublishResult,
        uid: str,
        url: str,
        data: bytes,
        fingerprint: str,
        previous: Published | None,
        if_match: str | None,
        *,
        restored: bool = False,
        overwrite: bool = False,
    ) -> None:
        """PUT ``data``: over the version with ETag ``if_match``, or as a new resource."""
        condition = {"If-Match": if_match} if if_match else {"If-None-Match": "*"}
        headers = {"Content-Type": _CALENDAR_TYPE, **condition}
        response = self._send(result, uid, "PUT", url, data, headers, quiet_412=True)
        if response is not None and response.status_code == 412:
            response = self._after_412(result, uid, url, data, headers, previous)
            if response is None:
                return
            restored = restored or "If-None-Match" in response.request.headers
        if response is None:
            if previous is not None:
                result.published[uid] = previous  # the server still holds the old one
            return
        etag = response.headers.get("ETag") or self._etag(url)
        result.published[uid] = Published(etag, fingerprint)
        if if_match is None or "If-None-Match" in response.request.headers:
            result.created.append(uid)
            if restored and previous is not None:
                result.restored.append(uid)
        else:
            result.updated.append(uid)
            if overwrite:
                result.overwritten.append(uid)

    def _after_412(
        self,
        result: PublishResult,
        uid: str,
        url: str,
        data: bytes,
        headers: dict[str, str],
        previous: Published | None,
    ) -> httpx.Response | None:
        """A precondition failed: create the resource if it is gone, else report who holds
        which version. None when nothing was written."""
        try:
            probe = self._http.head(url)
        except httpx.HTTPError as error:
            result.failures.append(
                Failure(uid, "HEAD", url, None, f"{type(error).__name__}: {error}")
            )
            return None
        if probe.status_code == 404 and "If-Match" in headers:
            retry = {k: v for k, v in headers.items() if k != "If-Match"}
            response = self._send(result, uid, "PUT", url, data, {**retry, "If-None-Match": "*"})
            if response is None and previous is not None:
                result.published[uid] = previous
            return response
        theirs = probe.headers.get("ETag") if probe.is_success else None
        if theirs and previous is not None:
            self._conflict(result, uid, "PUT", url, previous, theirs)
        else:
            result.failures.append(
                Failure(
                    uid,
                    "PUT",
                    url,
                    412,
                    _REASONS[412]
                    if previous is not None
                    else "already on the server, not written by amity "
                    f"(server ETag {theirs or '?'}); left alone — publish with --force to replace it",
                    ours=previous.etag if previous else None,
                    theirs=theirs,
                )
            )
        if previous is not None:
            result.published[uid] = previous
        return None

    def _conflict(
        self,
        result: PublishResult,
        uid: str,
        method: str,
        url: str,
        previous: Published,
        theirs: str,
    ) -> None:
        failure = Failure(
            uid,
            method,
            url,
            412,
            f"changed on the server by someone else (server ETag {theirs}, amity last wrote "
            f"{previous.etag}); left alone — publish with --force to overwrite it",
            ours=previous.etag,
            theirs=theirs,
        )
        result.conflicts.append(failure)
        result.failures.append(failure)
        result.published[uid] = previous

    def _delete_one(
        self,
        result: PublishResult,
        uid: str,
        previous: Published,
        on_server: Mapping[str, str] | None,
        *,
        force: bool,
    ) -> None:
        url = self.resource_url(uid)
        theirs = None if on_server is None else on_server.get(resource_name(uid))
        if on_server is not None and theirs is None:
            result.deleted.append(uid)  # already gone: the goal is reached
            return
        if theirs is not None and not same_etag(theirs, previous.etag) and not force:
            self._conflict(result, uid, "DELETE", url, previous, theirs)
            return
        etag = theirs if theirs is not None else previous.etag
        response = self._send(result, uid, "DELETE", url, None, {"If-Match": etag})
        if response is None:
            result.published[uid] = previous
            return
        result.deleted.append(uid)
        if not same_etag(etag, previous.etag):
            result.overwritten.append(uid)

    def _holds(self, url: str, fingerprint: str) -> bool:
        """Whether the resource at ``url`` holds exactly the bytes with ``fingerprint``."""
        try:
            response = self._http.get(url)
        except httpx.HTTPError:
            return False
        return response.is_success and digest(response.content) == fingerprint

    def _send(
        self,
        result: PublishResult,
        uid: str,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        quiet_412: bool = False,
    ) -> httpx.Response | None:
        """The response, or None after recording a failure; with ``quiet_412`` a 412 is
        returned for the caller to look into."""
        try:
            response = self._http.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as error:
            result.failures.append(
                Failure(uid, method, url, None, f"{type(error).__name__}: {error}")
            )
            return None
        if method == "DELETE" and response.status_code == 404:
            return response  # already gone: the goal is reached
        if response.is_success or (quiet_412 and response.status_code == 412):
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
