"""The outside world: Maildir/SMTP transport, the delivery ledger, CalDAV, output files."""
