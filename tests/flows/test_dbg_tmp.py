import datetime as dt
from tests.flows.test_schedule import *  # noqa
from flows.schedule import _snapshots, record_snapshot, contact_changes, _baseline

def test_dbg(registry):
    with session_scope() as s:
        e = find_event(s, SYMPOSIUM)
        record_snapshot(s, e, NOW, replace_existing=False)
    _apply(_moved_and_trimmed(), registry, now=LATER)
    with session_scope() as s:
        e = find_event(s, SYMPOSIUM)
        snaps = _snapshots(s, e.id)
        ch, cur = contact_changes(e, _baseline(snaps, 0), None, uid="x@y", held_sequence=0, city="Tokyo", lang="ja")
        print(ch.event, ch.sessions, ch.added, ch.removed)
        print(snaps[0]["sessions"]["urban-administration"])
        print([(x.key, x.start_dt) for x in e.sessions])
    assert 0
