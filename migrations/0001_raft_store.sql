-- The Raft log, one row per entry. `entry` is the JSON of `openraft::Entry<TypeConfig>`; `term`
-- is kept as a column so the log can be inspected with sqlite3 without decoding entries.
CREATE TABLE raft_log (
    log_index INTEGER PRIMARY KEY,
    term INTEGER NOT NULL,
    entry BLOB NOT NULL
);

-- Facts the log store owns (`vote`, `committed`, `last_purged`), one JSON value per key.
CREATE TABLE raft_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Facts the state machine owns (`last_applied`, `last_membership`), written in the same
-- transaction as the objects they describe.
CREATE TABLE sm_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Every object, as the state machine last applied it. Reads go to the in-memory index; this
-- table is what the index is rebuilt from at startup. `name`, `stack` and `version` duplicate
-- the record so the table can be inspected and queried by hand.
CREATE TABLE objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    stack TEXT,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- The current snapshot (at most one): its openraft metadata and the serialized state.
CREATE TABLE snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_index INTEGER NOT NULL,
    meta TEXT NOT NULL,
    data BLOB NOT NULL
);
