// BrokerStore over SQLite (src/mqtt): DATA_DIR/mqtt.db.
#include <mutex>

#include <sqlite3.h>

#include "mqtt/broker_store.h"
#include "platform/sqlite_statement.h"

namespace seaway::mqtt {
namespace {

// Subscriptions as one blob: per subscription a u16 length, the filter, the options byte and
// a u32 subscription id.
std::string EncodeSubscriptions(const std::vector<StoredSubscription>& subs) {
  std::string out;
  for (const StoredSubscription& s : subs) {
    out.push_back(static_cast<char>(s.filter.size() >> 8));
    out.push_back(static_cast<char>(s.filter.size() & 0xff));
    out += s.filter;
    const uint8_t o = static_cast<uint8_t>(s.options.max_qos | (s.options.no_local ? 4 : 0) |
                                           (s.options.retain_as_published ? 8 : 0) |
                                           (s.options.retain_handling << 4));
    out.push_back(static_cast<char>(o));
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>(s.subscription_id >> shift));
    }
  }
  return out;
}

Result<std::vector<StoredSubscription>> DecodeSubscriptions(std::string_view in) {
  std::vector<StoredSubscription> out;
  size_t pos = 0;
  auto byte = [&in](size_t i) { return static_cast<uint8_t>(in[i]); };
  while (pos < in.size()) {
    if (in.size() - pos < 2) return Corruption("mqtt.db: truncated subscription list");
    const size_t n = static_cast<size_t>(byte(pos) << 8 | byte(pos + 1));
    pos += 2;
    if (in.size() - pos < n + 5) return Corruption("mqtt.db: truncated subscription list");
    StoredSubscription s;
    s.filter = std::string(in.substr(pos, n));
    pos += n;
    const uint8_t o = byte(pos++);
    s.options.max_qos = o & 3;
    s.options.no_local = o & 4;
    s.options.retain_as_published = o & 8;
    s.options.retain_handling = (o >> 4) & 3;
    for (int i = 0; i < 4; ++i) s.subscription_id = (s.subscription_id << 8) | byte(pos++);
    out.push_back(std::move(s));
  }
  return out;
}

std::string EncodeIds(const std::vector<uint16_t>& ids) {
  std::string out;
  for (uint16_t id : ids) {
    out.push_back(static_cast<char>(id >> 8));
    out.push_back(static_cast<char>(id & 0xff));
  }
  return out;
}

class SqliteBrokerStore final : public BrokerStore {
 public:
  SqliteBrokerStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteBrokerStore() override { sqlite3_close(db_); }

  Status Init() {
    SW_RETURN_IF_ERROR(
        Exec("PRAGMA journal_mode=WAL;"
             "PRAGMA synchronous=FULL;"
             "CREATE TABLE IF NOT EXISTS sessions("
             "  tenant INTEGER NOT NULL, client_id BLOB NOT NULL, version INTEGER NOT NULL,"
             "  expiry INTEGER NOT NULL, disconnected_ns INTEGER NOT NULL,"
             "  subscriptions BLOB NOT NULL, incoming_qos2 BLOB NOT NULL,"
             "  PRIMARY KEY(tenant, client_id));"
             "CREATE TABLE IF NOT EXISTS session_messages("
             "  tenant INTEGER NOT NULL, client_id BLOB NOT NULL, seq INTEGER NOT NULL,"
             "  packet_id INTEGER NOT NULL, state INTEGER NOT NULL, publish BLOB NOT NULL,"
             "  PRIMARY KEY(tenant, client_id, seq));"
             "CREATE TABLE IF NOT EXISTS retained("
             "  tenant INTEGER NOT NULL, seq INTEGER NOT NULL, publish BLOB NOT NULL,"
             "  PRIMARY KEY(tenant, seq));"
             "CREATE TABLE IF NOT EXISTS snapshot(saved_at_ns INTEGER NOT NULL);"
             "CREATE TABLE IF NOT EXISTS wills("
             "  tenant INTEGER NOT NULL, client_id BLOB NOT NULL, due_ns INTEGER NOT NULL,"
             "  publish BLOB NOT NULL);"));
    // Added after the first release: stores made before it gain the column.
    SqliteStatement owner(db_, "SELECT owner_device FROM sessions LIMIT 0");
    if (!owner.ok()) {
      SW_RETURN_IF_ERROR(
          Exec("ALTER TABLE sessions ADD COLUMN owner_device BLOB NOT NULL DEFAULT x'';"));
    }
    return Status::OK();
  }

  Status Save(const BrokerSnapshot& snap) override {
    std::lock_guard lock(mu_);
    SW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE;"));
    Status s = SaveLocked(snap);
    if (!s.ok()) {
      (void)Exec("ROLLBACK;");  // the error that made us roll back is the one to report
      return s;
    }
    return Exec("COMMIT;");
  }

  Result<BrokerSnapshot> Load() override {
    std::lock_guard lock(mu_);
    BrokerSnapshot snap;
    {
      SqliteStatement st(
          db_,
          "SELECT tenant, client_id, version, expiry, disconnected_ns, subscriptions,"
          " incoming_qos2, owner_device FROM sessions ORDER BY tenant, client_id");
      if (!st.ok()) return Error("prepare");
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        StoredSession s;
        s.tenant = TenantId(static_cast<uint64_t>(st.Int(0)));
        s.client_id = st.Blob(1);
        s.version = st.Int(2) == 4 ? Version::kV311 : Version::kV5;
        s.expiry_interval = static_cast<uint32_t>(st.Int(3));
        s.disconnected_at_unix_ns = st.Int(4);
        SW_ASSIGN_OR_RETURN(s.subscriptions, DecodeSubscriptions(st.Blob(5)));
        s.owner_device = st.Blob(7);
        const std::string ids = st.Blob(6);
        for (size_t i = 0; i + 1 < ids.size(); i += 2) {
          s.incoming_qos2.push_back(static_cast<uint16_t>(static_cast<uint8_t>(ids[i]) << 8 |
                                                          static_cast<uint8_t>(ids[i + 1])));
        }
        snap.sessions.push_back(std::move(s));
      }
      if (rc != SQLITE_DONE) return Error("read sessions");
    }
    {
      SqliteStatement st(db_,
                         "SELECT tenant, client_id, packet_id, state, publish FROM session_messages"
                         " ORDER BY tenant, client_id, seq");
      if (!st.ok()) return Error("prepare");
      size_t si = 0;
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        const TenantId tenant(static_cast<uint64_t>(st.Int(0)));
        const std::string client = st.Blob(1);
        // Both queries are sorted the same way: walk the sessions alongside.
        while (si < snap.sessions.size() &&
               (snap.sessions[si].tenant < tenant ||
                (snap.sessions[si].tenant == tenant && snap.sessions[si].client_id < client))) {
          ++si;
        }
        if (si == snap.sessions.size() || snap.sessions[si].tenant != tenant ||
            snap.sessions[si].client_id != client) {
          continue;  // an orphan row: its session is gone
        }
        StoredMessage m;
        m.packet_id = static_cast<uint16_t>(st.Int(2));
        m.state = static_cast<StoredMessage::State>(st.Int(3) & 3);
        m.publish = st.Blob(4);
        snap.sessions[si].messages.push_back(std::move(m));
      }
      if (rc != SQLITE_DONE) return Error("read session messages");
    }
    {
      SqliteStatement st(db_,
                         "SELECT tenant, client_id, due_ns, publish FROM wills ORDER BY rowid");
      if (!st.ok()) return Error("prepare");
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        snap.wills.push_back(StoredWill{TenantId(static_cast<uint64_t>(st.Int(0))), st.Blob(1),
                                        st.Blob(3), st.Int(2)});
      }
      if (rc != SQLITE_DONE) return Error("read wills");
    }
    {
      SqliteStatement st(db_, "SELECT saved_at_ns FROM snapshot");
      if (!st.ok()) return Error("prepare");
      if (sqlite3_step(st.get()) == SQLITE_ROW) snap.saved_at_unix_ns = st.Int(0);
    }
    {
      SqliteStatement st(db_, "SELECT tenant, publish FROM retained ORDER BY tenant, seq");
      if (!st.ok()) return Error("prepare");
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        snap.retained.push_back(
            StoredRetained{TenantId(static_cast<uint64_t>(st.Int(0))), st.Blob(1)});
      }
      if (rc != SQLITE_DONE) return Error("read retained messages");
    }
    return snap;
  }

 private:
  Status SaveLocked(const BrokerSnapshot& snap) {
    SW_RETURN_IF_ERROR(
        Exec("DELETE FROM sessions; DELETE FROM session_messages; DELETE FROM retained;"
             " DELETE FROM snapshot; DELETE FROM wills;"));
    SqliteStatement ses(db_,
                        "INSERT INTO sessions(tenant, client_id, version, expiry, disconnected_ns,"
                        " subscriptions, incoming_qos2, owner_device)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    SqliteStatement saved(db_, "INSERT INTO snapshot VALUES(?1)");
    SqliteStatement will(db_, "INSERT INTO wills VALUES(?1, ?2, ?3, ?4)");
    SqliteStatement msg(db_, "INSERT INTO session_messages VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    SqliteStatement ret(db_, "INSERT INTO retained VALUES(?1, ?2, ?3)");
    if (!ses.ok() || !msg.ok() || !ret.ok() || !saved.ok() || !will.ok()) {
      return Error("prepare");
    }
    for (const StoredWill& w : snap.wills) {
      sqlite3_reset(will.get());
      will.Bind(1, static_cast<int64_t>(w.tenant.value()));
      will.BindBlob(2, w.client_id);
      will.Bind(3, w.due_unix_ns);
      will.BindBlob(4, w.publish);
      if (sqlite3_step(will.get()) != SQLITE_DONE) return Error("save will");
    }
    saved.Bind(1, snap.saved_at_unix_ns);
    if (sqlite3_step(saved.get()) != SQLITE_DONE) return Error("save snapshot time");
    for (const StoredSession& s : snap.sessions) {
      sqlite3_reset(ses.get());
      ses.Bind(1, static_cast<int64_t>(s.tenant.value()));
      ses.BindBlob(2, s.client_id);
      ses.Bind(3, static_cast<int64_t>(s.version));
      ses.Bind(4, static_cast<int64_t>(s.expiry_interval));
      ses.Bind(5, s.disconnected_at_unix_ns);
      ses.BindBlob(6, EncodeSubscriptions(s.subscriptions));
      ses.BindBlob(7, EncodeIds(s.incoming_qos2));
      ses.BindBlob(8, s.owner_device);
      if (sqlite3_step(ses.get()) != SQLITE_DONE) return Error("save session");
      int64_t seq = 0;
      for (const StoredMessage& m : s.messages) {
        sqlite3_reset(msg.get());
        msg.Bind(1, static_cast<int64_t>(s.tenant.value()));
        msg.BindBlob(2, s.client_id);
        msg.Bind(3, seq++);
        msg.Bind(4, static_cast<int64_t>(m.packet_id));
        msg.Bind(5, static_cast<int64_t>(m.state));
        msg.BindBlob(6, m.publish);
        if (sqlite3_step(msg.get()) != SQLITE_DONE) return Error("save session message");
      }
    }
    int64_t seq = 0;
    for (const StoredRetained& r : snap.retained) {
      sqlite3_reset(ret.get());
      ret.Bind(1, static_cast<int64_t>(r.tenant.value()));
      ret.Bind(2, seq++);
      ret.BindBlob(3, r.publish);
      if (sqlite3_step(ret.get()) != SQLITE_DONE) return Error("save retained message");
    }
    return Status::OK();
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      Status s = IOError("{}: {}", path_, err != nullptr ? err : "sqlite error");
      sqlite3_free(err);
      return s;
    }
    return Status::OK();
  }
  Status Error(std::string_view what) {
    return IOError("{}: {}: {}", path_, what, sqlite3_errmsg(db_));
  }

  std::mutex mu_;
  sqlite3* const db_;
  const std::string path_;
};

}  // namespace

Result<std::unique_ptr<BrokerStore>> OpenSqliteBrokerStore(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status s = IOError("cannot open {}: {}", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteBrokerStore>(db, path);
  SW_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<BrokerStore>(std::move(store));
}

}  // namespace seaway::mqtt
