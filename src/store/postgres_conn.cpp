#include "postgres_conn.hpp"

#include <charconv>

namespace parley::store {

namespace {

// libpq's messages end with a newline and may go on over several lines: the first one says it.
std::string first_line(const char* message) {
  std::string_view m = message ? message : "unknown error";
  auto end = m.find('\n');
  return std::string(m.substr(0, end));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

// ---- parameters

pg_params& pg_params::add(const char* data, std::size_t size, int format) {
  values_.push_back(data);
  lengths_.push_back(static_cast<int>(size));
  formats_.push_back(format);
  return *this;
}

pg_params& pg_params::owned(std::string v) {
  const std::string& kept = owned_.emplace_back(std::move(v));
  return add(kept.data(), kept.size(), 0);
}

pg_params& pg_params::text(std::string_view v) {
  return add(v.data(), v.size(), 0);
}

pg_params& pg_params::optional_text(const std::optional<std::string>& v) {
  return v ? text(std::string_view(*v)) : add(nullptr, 0, 0);
}

pg_params& pg_params::bytes(std::string_view v) {
  return add(v.empty() ? "" : v.data(), v.size(), 1);
}

pg_params& pg_params::integer(std::int64_t v) {
  return owned(std::to_string(v));
}

pg_params& pg_params::real(std::optional<double> v) {
  if (!v) return add(nullptr, 0, 0);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
  return owned(std::string(buf, end));
}

pg_params& pg_params::boolean(bool v) {
  return add(v ? "t" : "f", 1, 0);
}

pg_params& pg_params::text_array(const std::vector<std::string_view>& values) {
  pg_array a;
  for (std::string_view v : values)
    a.text(v);
  return array(std::move(a));
}

// ---- array literals

pg_array& pg_array::text(std::string_view v) {
  next();
  literal_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') literal_ += '\\';
    literal_ += c;
  }
  literal_ += '"';
  return *this;
}

pg_array& pg_array::optional_text(const std::optional<std::string>& v) {
  if (v) return text(*v);
  next();
  literal_ += "NULL";
  return *this;
}

pg_array& pg_array::bytes(std::string_view v) {
  static constexpr char hex[] = "0123456789abcdef";
  next();
  literal_ += "\"\\\\x";  // "\\x: the element's backslash, escaped in the array literal
  for (unsigned char c : v) {
    literal_ += hex[c >> 4];
    literal_ += hex[c & 15];
  }
  literal_ += '"';
  return *this;
}

pg_array& pg_array::integer(std::int64_t v) {
  next();
  literal_ += std::to_string(v);
  return *this;
}

pg_array& pg_array::boolean(bool v) {
  next();
  literal_ += v ? 't' : 'f';
  return *this;
}

// ---- results

std::string_view pg_result::text(int row, int col) const {
  return {PQgetvalue(r_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
}

std::optional<std::string_view> pg_result::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

std::int64_t pg_result::integer(int row, int col) const {
  std::string_view t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::string pg_result::bytes(int row, int col) const {
  std::string_view hex = text(row, col);  // "\x" then two hex digits a byte
  std::string out;
  if (hex.size() < 2) return out;
  out.resize((hex.size() - 2) / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(hex_digit(hex[2 + 2 * i]) << 4 | hex_digit(hex[3 + 2 * i]));
  return out;
}

// ---- the connection

pg_connection::pg_connection(const std::string& url) : conn_(nullptr, &PQfinish) {
  std::string timeout = std::to_string(connect_timeout_seconds);
  // Later keywords win, and the URL (expanded from dbname) comes last: its settings win.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "parley", url.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, 1));
  if (!conn_) throw pg_error("out of memory for a connection", "", true);
  if (!ok()) throw pg_error(first_line(PQerrorMessage(conn_.get())), "", true);
}

bool pg_connection::reset() {
  PQreset(conn_.get());
  return ok();
}

[[noreturn]] void pg_connection::fail(PGresult* r) {
  std::string state;
  std::string message;
  if (r) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    state = s ? s : "";
    message = PQresultStatus(r) == PGRES_PIPELINE_ABORTED ? "skipped after an earlier error"
                                                          : first_line(PQresultErrorMessage(r));
    PQclear(r);
  }
  if (message.empty()) message = first_line(PQerrorMessage(conn_.get()));
  throw pg_error(message, state, !ok());
}

pg_result pg_connection::check(PGresult* r) {
  auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return pg_result(r);
  fail(r);
}

void pg_connection::prepare(const char* name, std::string_view sql) {
  check(PQprepare(conn_.get(), name, std::string(sql).c_str(), 0, nullptr));
}

void pg_connection::exec(const std::string& sql) {
  check(PQexec(conn_.get(), sql.c_str()));
}

pg_result pg_connection::run(const char* name, const pg_params& p) {
  return check(
      PQexecPrepared(conn_.get(), name, p.size(), p.values(), p.lengths(), p.formats(), 0));
}

void pg_connection::begin_pipeline() {
  if (PQenterPipelineMode(conn_.get()) != 1) fail(nullptr);
}

void pg_connection::send(const char* name, const pg_params& p) {
  if (PQsendQueryPrepared(conn_.get(), name, p.size(), p.values(), p.lengths(), p.formats(), 0) !=
      1)
    fail(nullptr);
}

void pg_connection::send_sql(const std::string& sql) {
  if (PQsendQueryParams(conn_.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1)
    fail(nullptr);
}

void pg_connection::sync() {
  if (PQpipelineSync(conn_.get()) != 1) fail(nullptr);
}

pg_result pg_connection::next_result() {
  PGresult* r = PQgetResult(conn_.get());
  if (!r) fail(nullptr);
  // Each statement's result is followed by a null that ends it.
  while (PGresult* extra = PQgetResult(conn_.get()))
    PQclear(extra);
  return check(r);
}

void pg_connection::end_pipeline() {
  while (ok()) {
    PGresult* r = PQgetResult(conn_.get());
    if (!r) continue;  // between two statements' results
    bool synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (synced) break;
  }
  if (!ok() || PQexitPipelineMode(conn_.get()) != 1) fail(nullptr);
}

}  // namespace parley::store
