-- The log is also a Merkle tree (RFC 9162 section 2.1), kept by the sealer in
-- the transaction that gives the positions: leaf i is the event at position
-- i + 1, leaf hash = sha256(0x00 || the exact stored body, the bytes the chain
-- hashes), node = sha256(0x01 || left || right).
--
-- Stored as C2SP tlog-tiles of height 8 (Tessera's PostgreSQL layout): one row
-- per tile, its hashes concatenated, appended to until it holds 256 and never
-- changed again; a full tile's root is appended to the tile above. So an event
-- costs about two hashes (its leaf, and 255/256 of a node per tile), and any
-- proof is a handful of rows read by key. log_tree is the single-row tree
-- state; the checkpoints the active sealer signs are kept in log_checkpoints.
-- The functions that grow the tree are in ledger/store/functions/ (ledger_seal
-- calls ledger_tree_append); the first active sealer of this release builds the
-- tree of the events sealed before it (ledger_tree_catch_up).

CREATE TABLE log_tiles (
    level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    bigint   NOT NULL CHECK (idx >= 0),
    hashes bytea    NOT NULL
        CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
    PRIMARY KEY (level, idx)
);
-- Hashes do not compress: do not try on every append.
ALTER TABLE log_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;

CREATE TABLE log_tree (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint  NOT NULL CHECK (size >= 0)
);
INSERT INTO log_tree (size) VALUES (0);

-- Who the log is: its origin (the key name) and verifier key, fixed when the
-- store is first started with this release. The signing key is never here.
CREATE TABLE log_identity (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    origin       text NOT NULL,
    verifier_key text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every signed checkpoint, one per tree size: the key makes two checkpoints
-- of one size impossible, whoever signs.
CREATE TABLE log_checkpoints (
    size      bigint PRIMARY KEY CHECK (size >= 1),
    root      bytea  NOT NULL CHECK (length(root) = 32),
    note      text   NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now()
);

-- Witnesses' cosignatures, each a signature line over a checkpoint the log signed.
CREATE TABLE log_cosignatures (
    size        bigint NOT NULL REFERENCES log_checkpoints (size),
    witness_id  text   NOT NULL,
    line        text   NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (size, witness_id)
);

-- A tile only grows, until full; the tree only grows; the rest is append-only.
CREATE FUNCTION ledger_tile_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level <> OLD.level OR NEW.idx <> OLD.idx OR length(OLD.hashes) = 8192
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'tile %/% can only grow until full', OLD.level, OLD.idx
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION ledger_tree_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the Merkle tree can only grow' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER log_tiles_grow BEFORE UPDATE ON log_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_tile_grows();
CREATE TRIGGER log_tree_grows BEFORE UPDATE ON log_tree
    FOR EACH ROW EXECUTE FUNCTION ledger_tree_grows();
CREATE TRIGGER log_tiles_no_delete BEFORE DELETE ON log_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tree_no_delete BEFORE DELETE ON log_tree
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_identity_append_only BEFORE UPDATE OR DELETE ON log_identity
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_cosignatures_append_only BEFORE UPDATE OR DELETE ON log_cosignatures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tiles_no_truncate BEFORE TRUNCATE ON log_tiles
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tree_no_truncate BEFORE TRUNCATE ON log_tree
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_identity_no_truncate BEFORE TRUNCATE ON log_identity
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_cosignatures_no_truncate BEFORE TRUNCATE ON log_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();

REVOKE ALL ON log_tiles, log_tree, log_identity, log_checkpoints, log_cosignatures
    FROM ledger_service;
GRANT SELECT, INSERT, UPDATE ON log_tiles, log_tree TO ledger_service;
GRANT SELECT, INSERT ON log_identity, log_checkpoints, log_cosignatures TO ledger_service;

