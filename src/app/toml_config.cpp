#include "parley/app/toml_config.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "parley/app/number_flag.hpp"

namespace parley::app {

namespace {

// What CLI11 is given for a value (an option's inputs), or why the value is not of its kind.
struct inputs {
  std::vector<std::string> values;
  std::string refusal;
};

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string number_of(const toml::node& node) {
  if (auto integer = node.value_exact<std::int64_t>()) return std::to_string(*integer);
  return number_text(*node.value_exact<double>());
}

inputs inputs_of(const toml::node& node, setting_kind kind) {
  auto refuse = [&](std::string_view expected) {
    return inputs{{}, "expects " + std::string(expected) + ", not " + std::string(type_name(node))};
  };
  switch (kind) {
    case setting_kind::integer:
      // A fraction is passed on, for the flag's check to say "not a whole number".
      if (!node.is_integer() && !node.is_floating_point()) return refuse("an integer");
      return {{number_of(node)}, {}};
    case setting_kind::number:
      if (!node.is_integer() && !node.is_floating_point()) return refuse("a number");
      return {{number_of(node)}, {}};
    case setting_kind::boolean:
      if (!node.is_boolean()) return refuse("true or false");
      return {{*node.value_exact<bool>() ? "true" : "false"}, {}};
    case setting_kind::text:
      if (!node.is_string()) return refuse("a string");
      if (node.value_exact<std::string>()->empty()) return {};
      return {{*node.value_exact<std::string>()}, {}};
    case setting_kind::text_list:
      break;
  }
  if (node.is_string()) {  // "a,b", as the flag takes it
    if (node.value_exact<std::string>()->empty()) return {};
    return {{*node.value_exact<std::string>()}, {}};
  }
  const toml::array* list = node.as_array();
  if (!list) return refuse("an array of strings");
  inputs result;
  for (const toml::node& item : *list) {
    if (!item.is_string()) {
      return {{}, "expects an array of strings, not one holding " + std::string(type_name(item))};
    }
    result.values.push_back(*item.value_exact<std::string>());
  }
  return result;
}

// Why `option` refuses one of `values`, as its flag would; empty when it takes them all.
std::string refusal_of(CLI::Option& option, std::vector<std::string> values) {
  for (std::string& value : values) {
    for (int i = 0;; ++i) {
      CLI::Validator* validator = nullptr;
      try {
        validator = option.get_validator(i);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      try {
        std::string why = (*validator)(value);  // transforms change `value` for the next check
        if (!why.empty()) return why;
      } catch (const CLI::Error& e) {
        return e.what();
      }
    }
  }
  return {};
}

bool environment_sets(const CLI::Option& option) {
  std::string name = option.get_envname();
  const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
  return value && *value;  // CLI11 ignores an empty variable too
}

// Edits (insertions, deletions, substitutions) from `a` to `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<CLI::ConfigItem> toml_config::from_config(std::istream& input) const {
  path_ = app_.get_config_ptr()->as<std::string>();
  taken_.clear();
  toml::table table;
  try {
    table = toml::parse(input, path_);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw CLI::ConfigError(path_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                           ": " + std::string(e.description()));
  }
  std::vector<std::pair<std::uint32_t, std::string>> errors;  // line, message
  std::vector<CLI::ConfigItem> items;
  for (auto&& [key, node] : table) {
    std::uint32_t line = key.source().begin.line;
    std::string where = path_ + ":" + std::to_string(line) + ": ";
    const setting* known = find(key.str());
    if (!known) {
      errors.emplace_back(line, where + unknown_key(key.str(), node.is_table()));
      continue;
    }
    auto [values, refusal] = inputs_of(node, known->kind);
    CLI::Option* option = app_.get_option_no_throw("--" + known->key);
    if (refusal.empty() && option) refusal = refusal_of(*option, values);
    if (!refusal.empty()) {
      errors.emplace_back(line, where + known->key + ": " + refusal);
      continue;
    }
    if (values.empty() || !option) continue;                         // "" or []: left unset
    if (option->count() > 0 || environment_sets(*option)) continue;  // the flag, the environment
    taken_.emplace(known->key, static_cast<int>(line));
    items.push_back({{}, known->key, std::move(values)});
  }
  if (!errors.empty()) {
    std::sort(errors.begin(), errors.end());
    std::string message;
    for (const auto& [line, error] : errors)
      message += (message.empty() ? "" : "\n") + error;
    throw CLI::ConfigError(message);
  }
  return items;
}

int toml_config::line_of(std::string_view key) const {
  auto found = taken_.find(key);
  return found == taken_.end() ? 0 : found->second;
}

const setting* toml_config::find(std::string_view key) const {
  for (const setting& s : settings_) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string toml_config::unknown_key(std::string_view key, bool is_table) const {
  std::string message = "unknown key " + std::string(key);
  if (is_table)
    return message + " (settings are top-level keys, named as the flags: no [sections])";
  const setting* closest = nullptr;
  std::size_t best = 4;  // suggest only a near miss
  for (const setting& s : settings_) {
    std::size_t distance = edit_distance(key, s.key);
    if (distance < best) {
      best = distance;
      closest = &s;
    }
  }
  if (closest) return message + " (did you mean " + closest->key + "?)";
  return message + " (the keys are the flags' names: parley --help lists them)";
}

}  // namespace parley::app
