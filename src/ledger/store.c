/*
 * One SQLite database per chain (WAL): blocks (header + body), tx locations, the key-value
 * state and a little metadata. A block and its state changes are written in one SQL
 * transaction, so after a crash a chain is at its last committed block, complete.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
	" header BLOB NOT NULL, body BLOB NOT NULL, anchor0 INTEGER NOT NULL,"
	" anchor1 INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS txloc(id BLOB PRIMARY KEY, height INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, code INTEGER NOT NULL, message TEXT) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS state(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;";

int db_exec(struct chain_db *c, const char *sql, struct lb_errmsg *em)
{
	char *err = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		lb_errf(em, LB_EIO, "%s chain database: %s", lb_chain_name(c->chain),
			err ? err : sqlite3_errmsg(c->db));
		sqlite3_free(err);
		return LB_EIO;
	}
	return LB_OK;
}

static int prep(struct chain_db *c, sqlite3_stmt **st, const char *sql, struct lb_errmsg *em)
{
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return lb_errf(em, LB_EIO, "%s chain database: %s", lb_chain_name(c->chain),
			       sqlite3_errmsg(c->db));
	return LB_OK;
}

int db_open(struct chain_db *c, const char *path, int chain, bool sync_full,
	    struct lb_errmsg *em)
{
	memset(c, 0, sizeof *c);
	c->chain = chain;
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		lb_errf(em, LB_EIO, "cannot open %s: %s", path,
			c->db ? sqlite3_errmsg(c->db) : "out of memory");
		db_close(c);
		return LB_EIO;
	}
	sqlite3_busy_timeout(c->db, 5000);
	int rc;
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-16384;"
		 "PRAGMA temp_store=MEMORY;",
		 sync_full ? "FULL" : "NORMAL");
	if ((rc = db_exec(c, pragmas, em)) || (rc = db_exec(c, schema, em)) ||
	    (rc = prep(c, &c->get_state, "SELECT v FROM state WHERE k=?", em)) ||
	    (rc = prep(c, &c->put_state, "INSERT OR REPLACE INTO state(k,v) VALUES(?,?)", em)) ||
	    (rc = prep(c, &c->del_state, "DELETE FROM state WHERE k=?", em)) ||
	    (rc = prep(c, &c->put_block,
		       "INSERT INTO blocks(height,hash,header,body,anchor0,anchor1) "
		       "VALUES(?,?,?,?,?,?)",
		       em)) ||
	    (rc = prep(c, &c->put_txloc,
		       "INSERT OR IGNORE INTO txloc(id,height,idx,code,message) VALUES(?,?,?,?,?)",
		       em)) ||
	    (rc = prep(c, &c->get_txloc,
		       "SELECT height,idx,code,message FROM txloc WHERE id=?", em)) ||
	    (rc = prep(c, &c->get_block, "SELECT header,body FROM blocks WHERE height=?", em)) ||
	    (rc = prep(c, &c->get_block_hash,
		       "SELECT header FROM blocks ORDER BY height DESC LIMIT 1", em)) ||
	    (rc = prep(c, &c->begin, "BEGIN IMMEDIATE", em)) ||
	    (rc = prep(c, &c->begin_read, "BEGIN", em)) ||
	    (rc = prep(c, &c->data_version, "PRAGMA data_version", em)) ||
	    (rc = prep(c, &c->commit, "COMMIT", em)) ||
	    (rc = prep(c, &c->rollback, "ROLLBACK", em))) {
		lb_errwrap(em, "%s: ", path);
		db_close(c);
		return rc;
	}
	return LB_OK;
}

void db_close(struct chain_db *c)
{
	sqlite3_stmt **all[] = {&c->get_state, &c->put_state, &c->del_state, &c->put_block,
				&c->put_txloc, &c->get_txloc, &c->get_block, &c->get_block_hash,
				&c->begin, &c->begin_read, &c->data_version, &c->commit,
				&c->rollback};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
}

int db_tip(struct chain_db *c, struct lb_block_header *h, uint8_t hash[LB_HASH_LEN],
	   struct lb_errmsg *em)
{
	sqlite3_stmt *st = c->get_block_hash;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = lb_header_decode(h, sqlite3_column_blob(st, 0),
				      (size_t)sqlite3_column_bytes(st, 0), em);
		sqlite3_reset(st);
		if (rc)
			return lb_errf(em, LB_ECORRUPT, "%s chain: latest block header is corrupt: %s",
				       lb_chain_name(c->chain), em ? em->text : "");
		lb_header_hash(h, hash);
		return LB_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return LB_ENOTFOUND;
	return lb_errf(em, LB_EIO, "%s chain: %s", lb_chain_name(c->chain), sqlite3_errmsg(c->db));
}

int db_block(struct chain_db *c, uint64_t height, struct lb_block_header *h, uint8_t **body,
	     size_t *body_len, struct lb_errmsg *em)
{
	sqlite3_stmt *st = c->get_block;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return lb_errf(em, LB_ENOTFOUND, "%s chain has no block %llu",
				       lb_chain_name(c->chain), (unsigned long long)height);
		return lb_errf(em, LB_EIO, "%s chain: %s", lb_chain_name(c->chain),
			       sqlite3_errmsg(c->db));
	}
	rc = lb_header_decode(h, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
			      em);
	if (rc) {
		sqlite3_reset(st);
		return lb_errf(em, LB_ECORRUPT, "%s chain block %llu: stored header is corrupt",
			       lb_chain_name(c->chain), (unsigned long long)height);
	}
	if (body) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		*body = lb_malloc(n ? n : 1);
		if (!*body) {
			sqlite3_reset(st);
			return lb_errf(em, LB_ENOMEM, "out of memory");
		}
		if (n)
			memcpy(*body, sqlite3_column_blob(st, 1), n);
		*body_len = n;
	}
	sqlite3_reset(st);
	return LB_OK;
}

int db_meta_get(struct chain_db *c, const char *k, uint8_t *out, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "SELECT v FROM meta WHERE k=?", -1, &st, NULL) != SQLITE_OK)
		return LB_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	int rc = LB_ENOTFOUND;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if ((size_t)sqlite3_column_bytes(st, 0) == n) {
			memcpy(out, sqlite3_column_blob(st, 0), n);
			rc = LB_OK;
		} else {
			rc = LB_ECORRUPT;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int db_meta_put(struct chain_db *c, const char *k, const uint8_t *v, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO meta(k,v) VALUES(?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return LB_EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, v, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? LB_OK : LB_EIO;
	sqlite3_finalize(st);
	return rc;
}

int db_txloc(struct chain_db *c, const uint8_t id[LB_HASH_LEN], struct txloc *loc)
{
	sqlite3_stmt *st = c->get_txloc;
	sqlite3_bind_blob(st, 1, id, LB_HASH_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		loc->height = (uint64_t)sqlite3_column_int64(st, 0);
		loc->index = (uint32_t)sqlite3_column_int64(st, 1);
		loc->code = sqlite3_column_int(st, 2);
		loc->valid = loc->code == LB_OK;
		const unsigned char *m = sqlite3_column_text(st, 3);
		snprintf(loc->message, sizeof loc->message, "%s", m ? (const char *)m : "");
		rc = LB_OK;
	} else {
		rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EIO;
	}
	sqlite3_reset(st);
	return rc;
}
