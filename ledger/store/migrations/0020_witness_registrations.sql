-- Witnesses (SPEC 8.2) are registered by witness.registered events, and the
-- ledger reads their keys from those events' stored bytes whenever a
-- cosignature arrives: this partial index finds the few registrations among
-- millions of events without a scan.
CREATE INDEX events_witness_registrations ON events (seq) WHERE type = 'witness.registered';
