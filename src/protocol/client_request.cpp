#include "parley/protocol/client_request.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

#include "parley/protocol/client_id.hpp"
#include "parley/protocol/utf8_validator.hpp"

namespace parley::protocol {

namespace json = boost::json;

namespace {

request_error bad_request(std::string_view message, optional_cid cid = std::nullopt) {
  return {error_code::bad_request, message, cid};
}

// A field's value, with null read as absent (protocol.md).
const json::value* field(const json::object& object, std::string_view name) {
  const json::value* v = object.if_contains(name);
  return v && !v->is_null() ? v : nullptr;
}

std::optional<std::string_view> string_field(const json::object& object, std::string_view name) {
  const json::value* v = field(object, name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

// The `cid`: absent, or a string of at most max_cid_bytes. False when it is neither.
bool read_cid(const json::object& object, optional_cid& cid) {
  const json::value* v = field(object, "cid");
  if (!v) return true;
  if (!v->is_string() || v->get_string().size() > max_cid_bytes) return false;
  cid = std::string_view(v->get_string());
  return true;
}

// An id named by the client: a string no longer than any client id. One with other characters
// is accepted and simply never online, as an unknown id is.
bool is_id_string(const json::value& v) {
  return v.is_string() && v.get_string().size() <= max_client_id_bytes;
}

// The recipient field `to`.
std::optional<std::string_view> recipient(const json::object& object) {
  const json::value* to = field(object, "to");
  if (!to || !is_id_string(*to)) return std::nullopt;
  return std::string_view(to->get_string());
}

request parse_msg(const json::object& object, optional_cid cid) {
  auto to = recipient(object);
  auto text = string_field(object, "text");
  if (!to || !text)
    return bad_request("msg needs \"to\" (a string of at most 64 bytes) and \"text\" (a string)",
                       cid);
  return msg_request{*to, *text, cid};
}

request parse_watch(const json::object& object, optional_cid cid, std::size_t max_ids) {
  const json::value* ids = field(object, "ids");
  if (!ids || !ids->is_array())
    return bad_request("watch needs \"ids\", an array of strings of at most 64 bytes", cid);
  const json::array& array = ids->get_array();
  if (array.size() > max_ids) return bad_request("watch lists too many ids", cid);
  watch_request watch{{}, cid};
  watch.ids.reserve(array.size());
  for (const json::value& id : array) {
    if (!is_id_string(id)) {
      return bad_request("watch needs \"ids\", an array of strings of at most 64 bytes", cid);
    }
    std::string_view view = id.get_string();
    if (std::find(watch.ids.begin(), watch.ids.end(), view) == watch.ids.end()) {
      watch.ids.push_back(view);
    }
  }
  return watch;
}

request parse_typed(const json::object& object, std::string_view type, optional_cid cid,
                    const request_limits& limits) {
  if (type == "msg") return parse_msg(object, cid);
  if (type == "who") return who_request{cid};
  if (type == "ping") return ping_request{cid};
  if (type == "watch") return parse_watch(object, cid, limits.max_watch_ids);
  if (type == "typing") {
    auto to = recipient(object);
    if (!to) return bad_request("typing needs \"to\" (a string of at most 64 bytes)", cid);
    return typing_request{*to, cid};
  }
  return request_error{error_code::unknown_type, "unknown type", cid};
}

// A name or mime field of a file header: absent, or a string of at most max_bytes.
bool read_optional_string(const json::object& object, std::string_view name, std::size_t max_bytes,
                          std::optional<std::string_view>& out) {
  const json::value* v = field(object, name);
  if (!v) return true;
  if (!v->is_string() || v->get_string().size() > max_bytes) return false;
  out = std::string_view(v->get_string());
  return true;
}

}  // namespace

request_parser::request_parser(request_limits limits) : limits_(limits) {}

const json::object* request_parser::parse_object(std::string_view text, request_error& error) {
  // A fresh resource each time: release() would keep the grown block size of a large frame,
  // and the next large one would ask for four times more, without bound.
  value_.reset();
  memory_.emplace(initial_buffer_, sizeof initial_buffer_);
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::error_code ec;
  value_.emplace(json::parse(text, ec, json::storage_ptr(&*memory_), options));
  if (ec) {
    error = {error_code::bad_json, "not valid JSON", std::nullopt};
    return nullptr;
  }
  if (!value_->is_object()) {
    error = {error_code::bad_json, "not a JSON object", std::nullopt};
    return nullptr;
  }
  return &value_->get_object();
}

request request_parser::parse_text(std::string_view frame) {
  request_error error{};
  const json::object* object = parse_object(frame, error);
  if (!object) return error;
  optional_cid cid;
  if (!read_cid(*object, cid)) return bad_request("cid must be a string of at most 64 bytes");
  auto type = string_field(*object, "type");
  if (!type) return bad_request("missing \"type\" (a string)", cid);
  return parse_typed(*object, *type, cid, limits_);
}

request request_parser::parse_binary(std::string_view frame) {
  if (frame.size() < 2) return bad_request("binary frame shorter than its 2-byte header length");
  std::size_t header_size =
      (static_cast<unsigned char>(frame[0]) << 8) | static_cast<unsigned char>(frame[1]);
  if (2 + header_size > frame.size()) {
    return bad_request("binary header length past the end of the frame");
  }
  std::string_view header = frame.substr(2, header_size);
  if (!utf8_validator::is_valid(header)) {
    return request_error{error_code::bad_json, "binary header is not UTF-8", std::nullopt};
  }
  request_error error{};
  const json::object* object = parse_object(header, error);
  if (!object) return error;
  file_request file{};
  if (!read_cid(*object, file.cid)) return bad_request("cid must be a string of at most 64 bytes");
  auto to = recipient(*object);
  if (!to)
    return bad_request("binary header needs \"to\" (a string of at most 64 bytes)", file.cid);
  file.to = *to;
  if (!read_optional_string(*object, "name", max_file_name_bytes, file.name)) {
    return bad_request("\"name\" must be a string of at most 255 bytes", file.cid);
  }
  if (!read_optional_string(*object, "mime", max_file_mime_bytes, file.mime)) {
    return bad_request("\"mime\" must be a string of at most 127 bytes", file.cid);
  }
  file.payload = frame.substr(2 + header_size);
  return file;
}

}  // namespace parley::protocol
