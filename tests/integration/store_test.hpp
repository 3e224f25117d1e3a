#pragma once
// The fixture of the protocol-v2 store tests (shared/protocol-v2.md, single node): each test
// gets its own data dir and its own server started with `--store sqlite --data-dir DIR`
// (node-ws: `--store file`), so no test sees another's conversations, and restart() stops and
// starts that server on the same dir. Ids can therefore be plain names.
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "chat_test.hpp"
#include "temp_dir.hpp"

namespace parley::it {

// One chat frame as a live recipient, the inbox or `history` hands it over: a text frame's
// JSON object, or a binary frame's header and payload.
struct chat_frame {
  bool binary = false;
  json::object head;    // the text frame's object, or the binary frame's header
  std::string payload;  // binary frames only
};

// What follows welcome: the waiting messages, then {"type":"inbox","count":N,"more":…}.
struct inbox_push {
  std::vector<chat_frame> frames;
  json::object inbox;
};

// A `history` answer: the messages, then {"type":"history",…,"count":N,"more":…,"first_seq":…}.
struct history_reply {
  std::vector<chat_frame> frames;
  json::object reply;
};

class store_test : public ::testing::Test {
 protected:
  void SetUp() override;
  // A suite's flags after `--store sqlite --data-dir DIR`.
  virtual std::vector<std::string> extra_flags() const { return {}; }

  server_process& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }
  const std::string& data_dir() const { return dir_.path(); }
  // Stops the server (SIGTERM or kill -9) and starts it on the same data dir; connect anew.
  void restart(stop_how how) { server_->restart(how); }

  // Upgrades /ws/<id> and reads the welcome, which must carry an epoch; nothing more.
  std::unique_ptr<ws_client> open(const std::string& id, json::object* welcome = nullptr);
  // open(), then the inbox, which must be empty ({"type":"inbox","count":0,"more":false}).
  std::unique_ptr<ws_client> connect(const std::string& id);
  // A raw socket upgraded to /ws/<id> that read its welcome and its empty inbox (for tests that
  // send several frames in one TCP write).
  std::unique_ptr<raw_client> raw_connect(const std::string& id);

  void run_for(ms d) { it::run_for(ioc_, d); }

  net::io_context ioc_;  // declared first: outlives the clients of the test

 private:
  temp_dir dir_;                            // outlives the server that writes into it
  std::unique_ptr<server_process> server_;  // started by SetUp with extra_flags()
};

// The frame of a binary message: [2-byte big-endian header length][header JSON][payload].
std::string file_frame(const json::object& header, const std::string& payload);
// The next frame of `c` as a chat frame (a text frame must hold a JSON object); throws on timeout.
chat_frame read_chat(ws_client& c, ms timeout = default_wait);
// The next text frame of a raw client (pings skipped) as a JSON object; throws on timeout.
json::object read_raw_json(raw_client& r, ms timeout = default_wait);
// Reads the inbox push that follows welcome, up to and including the `inbox` frame.
inbox_push read_inbox(ws_client& c);

// An integer field's value; -1 when absent or not an integer (seq, ts and counts are >= 0).
std::int64_t integer(const json::object& o, const char* key);
// A boolean field's value; false when absent or not a boolean.
bool flag(const json::object& o, const char* key);

// Sends {"type":"msg","to":to,"text":text,"cid":cid} and returns the ack, checked for cid, mid,
// seq, ts and `status`.
json::object send_text(ws_client& from, const std::string& to, const std::string& text,
                       const std::string& cid, const std::string& status);
// Sends `msg` (with its "cid") as a client does after `unavailable`: again every 100 ms while
// the answer is `unavailable`, for at most `bound`; returns the first other answer.
json::object send_until_not_unavailable(ws_client& c, const json::object& msg, ms bound = ms{5000});
// Reads the next frame of `c`, which must be an ack for `cid`; returns it.
json::object read_ack(ws_client& c, const std::string& cid);
// Reads the next frame of `c`, which must be an error `code` echoing `cid`.
void expect_error(ws_client& c, const std::string& code, const std::string& cid);
// Checks a forwarded message: a text `msg` frame (or a binary header) from/to with that seq, a
// mid and a ts.
void check_message(const chat_frame& f, const std::string& from, const std::string& to,
                   std::int64_t seq);
// Checks that `f` is the message an ack described: same mid, seq and ts.
void check_same_message(const chat_frame& f, const json::object& ack);

// Sends `request` with "type":"history" and reads the messages and the closing `history` frame.
history_reply history(ws_client& c, json::object request);
// Sends `request` with "type":"conversations" and returns the answer (which must be one).
json::object conversations(ws_client& c, json::object request);
// The items of a `conversations` answer.
std::vector<json::object> items_of(const json::object& answer);
// Reads receipts of `c` until one with seq `seq`: each from `with`, with `status`, seqs growing
// (receipts are cumulative and may be coalesced).
void expect_receipt(ws_client& c, const std::string& with, std::int64_t seq,
                    const std::string& status);

// GET `path` from the server on `port`.
http_response http_get(std::uint16_t port, const std::string& path);
// Sets the file-size limit (RLIMIT_FSIZE, soft) of a process this test started: its writes past
// `bytes` fail with EFBIG (SIGXFSZ is ignored, see server_process.hpp). RLIM_INFINITY lifts it.
void set_file_size_limit(pid_t pid, rlim_t bytes);

}  // namespace parley::it
