#include "parley/core/chat_connection.hpp"

#include <algorithm>
#include <string>

#include "parley/core/clock.hpp"
#include "parley/protocol/client_id.hpp"
#include "parley/protocol/server_frames.hpp"

namespace parley::core {

using namespace parley::protocol;

chat_connection::chat_connection(const chat_services& services, std::string id, sink& self)
    : services_(services),
      member_{std::move(id), &self},
      budget_(services.limits.max_messages_per_second, services.limits.max_bytes_per_second) {}

chat_connection::~chat_connection() {
  close();
}

void chat_connection::open() {
  std::optional<std::string_view> epoch;
  if (services_.store) epoch = services_.store->epoch();
  reply(welcome_frame(member_.id, unix_millis(), epoch));
  services_.routes.join(member_);
  if (services_.store) services_.store->push_inbox(store_request());
}

void chat_connection::close() {
  services_.routes.leave(member_);
}

store_client chat_connection::store_request() {
  ++store_pending_;
  return {member_.self->weak_from_this().lock(), &member_};
}

namespace {
std::optional<std::string> owned(optional_cid text) {
  if (!text) return std::nullopt;
  return std::string(*text);
}
}  // namespace

void chat_connection::store_send(std::string_view to, optional_cid cid, outgoing_message message) {
  if (!is_valid_client_id(to)) {
    return reply_error(error_code::bad_request, cid,
                       "\"" + std::string(to) + "\" cannot be a client id");
  }
  message.to = to;
  message.cid = owned(cid);
  services_.store->send(store_request(), std::move(message));
}

bool chat_connection::admit(std::size_t size, const moment& at) {
  if (budget_.try_take(at.steady_ns, static_cast<double>(size))) {
    strikes_ = 0;
    return true;
  }
  ++strikes_;
  reply_error(error_code::rate_limited, std::nullopt, "over this connection's message rate");
  return false;
}

void chat_connection::on_text(std::string_view frame, const moment& at) {
  if (admit(frame.size(), at)) handle(services_.parser.parse_text(frame), at);
}

void chat_connection::on_binary(std::string_view frame, const moment& at) {
  if (admit(frame.size(), at)) handle(services_.parser.parse_binary(frame), at);
}

void chat_connection::on_text_too_large(std::size_t size, const moment& at) {
  if (!admit(size, at)) return;
  reply_error(error_code::too_large, std::nullopt,
              "text message of " + std::to_string(size) + " bytes is over the limit of " +
                  std::to_string(services_.limits.max_text_bytes));
}

void chat_connection::handle(const request& request, const moment& at) {
  std::visit([&](const auto& r) { handle(r, at); }, request);
}

void chat_connection::handle(const request_error& error, const moment&) {
  reply_error(error.code, error.cid, error.message);
}

void chat_connection::reply_error(error_code code, optional_cid cid, std::string_view message,
                                  optional_cid to) {
  services_.stats.count_error(code);
  reply(error_frame(code, cid, message, to));
}

template <typename Build>
void chat_connection::route(std::string_view to, optional_cid cid, std::int64_t ts, Build build) {
  message_id mid = services_.routes.next_message_id();
  switch (services_.routes.route(member_, to, build(mid, ts))) {
    case route_result::delivered:
      break;
    case route_result::offline:
      return reply_error(error_code::offline, cid, "Client #" + std::string(to) + " is not online",
                         to);
    case route_result::unreachable:
      return reply_error(error_code::unavailable, cid,
                         "Client #" + std::string(to) + " is on a node that cannot be reached now",
                         to);
  }
  if (cid) reply(ack_frame(*cid, mid));
}

void chat_connection::handle(const msg_request& msg, const moment& at) {
  if (services_.store) return store_send(msg.to, msg.cid, {.body = std::string(msg.text)});
  route(msg.to, msg.cid, at.unix_ms, [&](std::string_view mid, std::int64_t ts) {
    return chat_message_frame(member_.id, msg.to, msg.text, mid, ts);
  });
}

void chat_connection::handle(const file_request& file, const moment& at) {
  if (services_.store) {
    return store_send(file.to, file.cid,
                      {.binary = true,
                       .body = std::string(file.payload),
                       .name = owned(file.name),
                       .mime = owned(file.mime)});
  }
  route(file.to, file.cid, at.unix_ms, [&](std::string_view mid, std::int64_t ts) {
    return file_frame({member_.id, file.to, file.name, file.mime, mid, ts}, file.payload);
  });
}

void chat_connection::handle(const who_request& who, const moment&) {
  router::online_list list{{}, 0};
  switch (services_.limits.presence) {
    case presence_scope::all:
      list = services_.routes.who(services_.limits.max_who_ids);
      break;
    case presence_scope::contacts:
      list = services_.routes.who_contacts(member_, services_.limits.max_who_ids);
      break;
    case presence_scope::off:
      break;
  }
  std::vector<std::string_view> ids(list.ids.begin(), list.ids.end());
  reply(who_frame(ids, list.total, who.cid));
}

void chat_connection::handle(const watch_request& watch, const moment&) {
  std::size_t added = 0;
  for (std::string_view id : watch.ids) {
    added += !member_.watches(id);
  }
  if (member_.watched().size() + added > services_.limits.max_watched_ids) {
    return reply_error(error_code::bad_request, watch.cid,
                       "a connection watches at most " +
                           std::to_string(services_.limits.max_watched_ids) + " ids");
  }
  services_.routes.watch(member_, watch.ids);
}

void chat_connection::handle(const typing_request& typing, const moment&) {
  services_.routes.notify(typing.to, typing_frame(member_.id));
}

void chat_connection::handle(const ping_request& ping, const moment& at) {
  reply(pong_frame(at.unix_ms, ping.cid));
}

// The store's requests reach the parser only when a store is on (request_limits).
void chat_connection::handle(const read_request& read, const moment&) {
  services_.store->read(store_request(), std::string(read.with), read.seq, owned(read.cid));
}

void chat_connection::handle(const history_request& history, const moment&) {
  services_.store->history(store_request(), {std::string(history.with), history.before,
                                             history.after, history.limit, owned(history.cid)});
}

void chat_connection::handle(const conversations_request& conversations, const moment&) {
  services_.store->conversations(
      store_request(), {conversations.limit, conversations.before_ts, owned(conversations.cid)});
}

}  // namespace parley::core
