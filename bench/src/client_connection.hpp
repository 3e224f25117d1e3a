#pragma once
// One client WebSocket connection: TCP connect (optionally from a chosen source address), a
// fixed HTTP upgrade request, then frames. Writes are coalesced: frames appended while a write
// is in flight go out together in the next one, and a connection with new frames is flushed
// once per handler turn (see worker::flush_dirty). Reads take as many frames as have arrived.
// Everything here runs on the owning worker's thread.

#include "client_frame.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::bench {

class worker;
class client_connection;

// Receives a connection's events, on its worker's thread.
class connection_handler {
 public:
  // The server's welcome arrived: the connection is open.
  virtual void on_welcome(client_connection& c) = 0;
  // A text message other than the welcome; `wire_bytes` counts its frame header too.
  virtual void on_text(client_connection& c, std::string_view payload, std::size_t wire_bytes) = 0;
  // The connection ended (or never opened, when `was_open` is false); called once per open().
  virtual void on_closed(client_connection& c, bool was_open, std::string_view reason) = 0;

 protected:
  ~connection_handler() = default;
};

struct server_target {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host_header;  // "127.0.0.1:8080"
  // wss: the context every connection's TLS stream is made from; null for plain ws.
  boost::asio::ssl::context* tls = nullptr;
};

class client_connection {
 public:
  enum class state { idle, connecting, upgrading, waiting_welcome, open, closing, closed };

  client_connection(worker& w, connection_handler& h, std::uint32_t index, std::string id,
                    server_target const& target, std::size_t read_buffer_bytes);
  client_connection(client_connection const&) = delete;
  client_connection& operator=(client_connection const&) = delete;

  // Starts connect + upgrade; `source` is bound first unless it is unspecified. Callable again
  // after on_closed (churn reuses the object and its buffers).
  void open(boost::asio::ip::address const& source);

  // Appends a masked text frame header for `len` bytes and returns where its payload goes;
  // the caller writes exactly `len` bytes there and then calls end_text with the same values.
  char* begin_text(std::size_t len);
  void end_text(char* payload, std::size_t len);
  void send_text(std::string_view payload);
  // Sends a close frame (1000) and then reads until the server closes the TCP connection.
  void send_close();
  // Starts a write of everything queued unless one is in flight.
  void flush();
  // Closes the socket at once (the end of a run); on_closed follows.
  void abort();

  state current_state() const { return state_; }
  std::uint32_t index() const { return index_; }
  std::string const& id() const { return id_; }
  std::uint32_t mask_key() const { return mask_key_; }
  bool dirty = false;  // listed in the worker's dirty list

 private:
  void start_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  bool parse_upgrade();
  bool parse_frames();
  bool handle_frame(server_frame const& f, std::size_t wire_bytes);
  void deliver_text(std::string_view payload, std::size_t wire_bytes);
  void queue_control(ws_opcode op, std::string_view payload);
  void finish(std::string_view reason);
  void write_upgrade();
  // Calls f(stream) with the TLS stream when there is one, else with the socket.
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(socket_);
  }

  worker& worker_;
  connection_handler& handler_;
  boost::asio::ip::tcp::socket socket_;
  // wss only, made afresh by each open(): TLS over socket_ (which it does not own).
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  server_target const& target_;
  std::uint32_t index_;
  std::uint32_t mask_key_;
  std::string id_;
  std::string request_;  // the fixed upgrade request
  std::vector<char> rbuf_;
  std::size_t rlen_ = 0;
  std::vector<char> pending_;   // frames queued, not yet handed to the socket
  std::vector<char> inflight_;  // the buffer of the write in flight
  std::string fragments_;       // a fragmented message being assembled (rare)
  std::uint32_t gen_ = 0;       // which open() the pending handlers belong to
  bool writing_ = false;
  bool close_sent_ = false;
  bool was_open_ = false;
  state state_ = state::idle;
};

}  // namespace parley::bench
