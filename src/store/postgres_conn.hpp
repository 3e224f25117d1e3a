#pragma once
// Private to src/store: one libpq connection, its prepared statements, and their results, with
// errors as exceptions. Used by one thread at a time (its store thread).
#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parley::store {

// A statement or the connection failed. `sqlstate` is PostgreSQL's code ("23505", "40P01"),
// empty when the connection itself failed; `connection_lost` says the connection is unusable.
class pg_error : public std::runtime_error {
 public:
  pg_error(std::string message, std::string sqlstate, bool connection_lost)
      : std::runtime_error(std::move(message)),
        sqlstate(std::move(sqlstate)),
        connection_lost(connection_lost) {}
  // Worth running the transaction again: a deadlock or a serialization failure.
  bool retryable() const { return sqlstate == "40P01" || sqlstate == "40001"; }

  std::string sqlstate;
  bool connection_lost;
};

// A one-dimensional array literal ({...}), built element by element, for a text-format
// parameter: strings quoted with quotes and backslashes escaped, NULL for a missing value,
// bytea as \x and hex digits.
class pg_array {
 public:
  pg_array& text(std::string_view v);
  pg_array& optional_text(const std::optional<std::string>& v);
  pg_array& bytes(std::string_view v);
  pg_array& integer(std::int64_t v);
  pg_array& boolean(bool v);
  // The literal; the builder is spent.
  std::string take() { return std::move(literal_ += '}'); }

 private:
  void next() {
    if (literal_.size() > 1) literal_ += ',';
  }
  std::string literal_ = "{";
};

// A statement's parameters, in text format except bytea ones (binary: no escaping). Values it
// is given by view must outlive the call they are passed to.
class pg_params {
 public:
  pg_params& text(std::string_view v);
  pg_params& optional_text(const std::optional<std::string>& v);
  pg_params& bytes(std::string_view v);
  pg_params& integer(std::int64_t v);
  pg_params& real(std::optional<double> v);
  pg_params& boolean(bool v);
  pg_params& array(pg_array&& a) { return owned(a.take()); }
  pg_params& text_array(const std::vector<std::string_view>& values);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  pg_params& add(const char* data, std::size_t size, int format);
  pg_params& owned(std::string v);

  std::deque<std::string> owned_;  // a deque: its strings do not move as it grows
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's result rows, in text format. Columns are read by index.
class pg_result {
 public:
  explicit pg_result(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const;
  std::optional<std::string_view> optional_text(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  // A bytea column (hex output) decoded to its bytes.
  std::string bytes(int row, int col) const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class pg_connection {
 public:
  // Connects (at most connect_timeout_seconds; the URL's own connect_timeout wins). Throws
  // pg_error with libpq's first line of error.
  explicit pg_connection(const std::string& url);
  bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // Connects again after a failure; true when it worked (the prepared statements are gone).
  bool reset();
  // Reads what the server sent an idle connection, without blocking: false when it closed
  // the connection (a shutdown terminates its sessions), which is then not ok().
  bool alive() { return PQconsumeInput(conn_.get()) == 1 && ok(); }

  void prepare(const char* name, std::string_view sql);
  // Runs `sql` (no parameters, possibly several statements) or a prepared statement, waiting
  // for its result. Throws pg_error.
  void exec(const std::string& sql);
  pg_result run(const char* name, const pg_params& params);

  // Pipeline mode (libpq 15): statements are sent without waiting, then sync() ends the
  // series and the results are read in order. The caller bounds the series, so that results
  // waiting to be read cannot fill the socket while it still writes.
  void begin_pipeline();
  void send(const char* name, const pg_params& params);
  void send_sql(const std::string& sql);
  void sync();
  // The next statement's result; throws pg_error for a failed (or skipped) statement.
  pg_result next_result();
  // Reads and drops what remains up to the sync, then leaves pipeline mode. Throws pg_error
  // when the connection is lost.
  void end_pipeline();

 private:
  [[noreturn]] void fail(PGresult* r);
  pg_result check(PGresult* r);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

// Connects seconds at most when the URL sets no connect_timeout: a server that does not answer
// fails the start (or a reconnect) instead of hanging it.
inline constexpr int connect_timeout_seconds = 5;

}  // namespace parley::store
