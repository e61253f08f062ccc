// SPDX-License-Identifier: Apache-2.0
// CurveZMQ keys and the ZAP handler: RFC 26 (CurveZMQ), RFC 27 (ZAP), RFC 32 (Z85).
#include "feedback/curve.h"

#include "core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq_addon.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

namespace recloop {
namespace {

// RFC 27: the one endpoint a context's ZAP handler binds.
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr std::string_view kZapVersion = "1.0";
// ZMQ_ZAP_ENFORCE_DOMAIN (libzmq >= 4.3, declared only with its draft API):
// with it, a handshake is refused when no ZAP handler answers.
constexpr int kZapEnforceDomain = 93;

std::string_view view(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> read_lines(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) throw ConfigError(std::string(what) + " '" + path + "': cannot read it");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

std::string at(const std::string& path, std::size_t line) {
  return path + ":" + std::to_string(line + 1);
}

// "public-key" and "secret-key" of a key file; absent ones are left empty.
KeyPair parse_key_file(const std::string& path) {
  const auto lines = read_lines(path, "key file");
  KeyPair keys;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
      throw ConfigError(at(path, i) + ": expected 'public-key = KEY' or 'secret-key = KEY'");
    }
    const std::string name = trim(std::string_view(line).substr(0, equals));
    const std::string value = trim(std::string_view(line).substr(equals + 1));
    std::string* slot = name == "public-key" ? &keys.public_key
                        : name == "secret-key" ? &keys.secret_key
                                               : nullptr;
    if (slot == nullptr) {
      throw ConfigError(at(path, i) + ": unknown name '" + name +
                        "' (expected public-key or secret-key)");
    }
    if (!slot->empty()) throw ConfigError(at(path, i) + ": " + name + " given twice");
    if (!is_z85_key(value)) {
      throw ConfigError(at(path, i) + ": " + name + " is not a 40-character Z85 key");
    }
    *slot = value;
  }
  return keys;
}

std::string z85(const zmq::message_t& binary_key) {
  std::array<char, kCurveKeyChars + 1> text{};
  if (binary_key.size() != 32 ||
      zmq_z85_encode(text.data(), static_cast<const std::uint8_t*>(binary_key.data()), 32) ==
          nullptr) {
    return "(malformed)";
  }
  return std::string(text.data(), kCurveKeyChars);
}

void write_file(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    if (errno == EEXIST) throw ConfigError(path + " exists (--force overwrites it)");
    throw Error("cannot create '" + path + "': " + std::strerror(errno));
  }
  // An overwritten file keeps its old mode: set it.
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  const int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw Error("cannot write '" + path + "': " + std::strerror(saved));
}

void set_option(zmq::socket_t& socket, int option, const std::string& value, const char* what) {
  if (zmq_setsockopt(socket.handle(), option, value.data(), value.size()) != 0) {
    throw Error(std::string("CurveZMQ: cannot set ") + what + ": " + zmq_strerror(zmq_errno()));
  }
}

}  // namespace

bool curve_available() { return zmq_has("curve") != 0; }

KeyPair generate_key_pair() {
  if (!curve_available()) throw Error("CurveZMQ: this libzmq was built without CURVE");
  std::array<char, kCurveKeyChars + 1> public_key{}, secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    throw Error(std::string("CurveZMQ: cannot make a key pair: ") + zmq_strerror(zmq_errno()));
  }
  return {std::string(public_key.data(), kCurveKeyChars),
          std::string(secret_key.data(), kCurveKeyChars)};
}

bool is_z85_key(std::string_view text) {
  if (text.size() != kCurveKeyChars) return false;
  const std::string terminated(text);  // zmq_z85_decode reads up to the NUL
  std::array<std::uint8_t, 32> binary{};
  return zmq_z85_decode(binary.data(), terminated.c_str()) != nullptr;
}

void write_key_files(const std::string& stem, const KeyPair& keys, bool overwrite) {
  const std::string key_path = stem + ".key", pub_path = stem + ".pub";
  if (!overwrite) {
    for (const auto& path : {key_path, pub_path}) {
      struct stat info {};
      if (::lstat(path.c_str(), &info) == 0) {
        throw ConfigError(path + " exists (--force overwrites it)");
      }
    }
  }
  write_file(key_path,
             "# recloop CurveZMQ key pair: keep secret\n"
             "public-key = " + keys.public_key + "\nsecret-key = " + keys.secret_key + "\n",
             0600, overwrite);
  write_file(pub_path, "# recloop CurveZMQ public key\npublic-key = " + keys.public_key + "\n",
             0644, overwrite);
}

KeyPair load_key_pair(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw ConfigError("key file '" + path + "': " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw ConfigError("key file '" + path + "' is readable by others (mode " + mode +
                      "): chmod 600 it");
  }
  KeyPair keys = parse_key_file(path);
  if (keys.public_key.empty() || keys.secret_key.empty()) {
    throw ConfigError("key file '" + path + "': needs public-key and secret-key (is it a .pub?)");
  }
  std::array<char, kCurveKeyChars + 1> derived{};
  if (zmq_curve_public(derived.data(), keys.secret_key.c_str()) != 0 ||
      keys.public_key != std::string(derived.data(), kCurveKeyChars)) {
    throw ConfigError("key file '" + path + "': public-key does not belong to secret-key");
  }
  return keys;
}

std::string load_public_key(const std::string& path) {
  KeyPair keys = parse_key_file(path);
  if (keys.public_key.empty()) throw ConfigError("public key file '" + path + "': no public-key");
  return keys.public_key;
}

std::vector<AuthorizedKey> load_authorized_keys(const std::string& path) {
  const auto lines = read_lines(path, "authorized-keys file");
  std::vector<AuthorizedKey> keys;
  std::unordered_map<std::string, std::size_t> seen;  // key -> line index
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string line = trim(lines[i]);
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find_first_of(" \t");
    AuthorizedKey key;
    key.public_key = line.substr(0, space);
    if (space != std::string::npos) key.name = trim(std::string_view(line).substr(space));
    if (!is_z85_key(key.public_key)) {
      throw ConfigError(at(path, i) + ": '" + key.public_key +
                        "' is not a 40-character Z85 public key");
    }
    if (const auto [it, fresh] = seen.emplace(key.public_key, i); !fresh) {
      throw ConfigError(at(path, i) + ": key already listed on line " +
                        std::to_string(it->second + 1));
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) throw ConfigError("authorized-keys file '" + path + "' lists no key");
  return keys;
}

ServerKeys load_server_keys(const std::string& key_path, const std::string& authorized_path) {
  KeyPair own = load_key_pair(key_path);
  return {std::move(own.public_key), std::move(own.secret_key),
          load_authorized_keys(authorized_path)};
}

ClientKeys load_client_keys(const std::string& key_path, const std::string& server_key_path) {
  KeyPair own = load_key_pair(key_path);
  return {std::move(own.public_key), std::move(own.secret_key), load_public_key(server_key_path)};
}

void apply_server_keys(zmq::context_t& zmq, zmq::socket_t& socket, const ServerKeys& keys,
                       std::string_view domain) {
  {
    // If this bind succeeds, nobody answers ZAP requests on this context.
    zmq::socket_t probe(zmq, zmq::socket_type::rep);
    probe.set(zmq::sockopt::linger, 0);
    if (zmq_bind(probe.handle(), kZapEndpoint) == 0) {
      throw Error("CurveZMQ: server keys given for '" + std::string(domain) +
                  "' but no CurveAuthenticator runs on its context");
    }
  }
  const int on = 1;
  if (zmq_setsockopt(socket.handle(), kZapEnforceDomain, &on, sizeof on) != 0 &&
      zmq_errno() != EINVAL) {  // EINVAL: a libzmq without the option; the check above stands in
    throw Error(std::string("CurveZMQ: cannot enforce ZAP: ") + zmq_strerror(zmq_errno()));
  }
  const int server = 1;
  if (zmq_setsockopt(socket.handle(), ZMQ_CURVE_SERVER, &server, sizeof server) != 0) {
    throw Error(std::string("CurveZMQ: cannot make a CURVE server: ") +
                zmq_strerror(zmq_errno()));
  }
  set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key, "the secret key");
  set_option(socket, ZMQ_ZAP_DOMAIN, std::string(domain), "the ZAP domain");
}

void apply_client_keys(zmq::socket_t& socket, const ClientKeys& keys) {
  set_option(socket, ZMQ_CURVE_SERVERKEY, keys.server_public, "the server key");
  set_option(socket, ZMQ_CURVE_PUBLICKEY, keys.public_key, "the public key");
  set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key, "the secret key");
}

bool is_loopback_endpoint(std::string_view endpoint) {
  for (std::string_view prefix : {"tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:",
                                  "ipc://", "inproc://"}) {
    if (endpoint.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

std::optional<ServerKeys> server_keys_from_flags(
    const std::string& key_path, const std::string& authorized_path,
    const std::vector<std::pair<std::string, std::string>>& endpoints, bool insecure) {
  if (key_path.empty() != authorized_path.empty()) {
    throw ConfigError("give both --curve-key FILE and --curve-authorized FILE, or neither");
  }
  if (!key_path.empty()) return load_server_keys(key_path, authorized_path);
  for (const auto& [flag, endpoint] : endpoints) {
    if (!endpoint.empty() && !is_loopback_endpoint(endpoint) && !insecure) {
      throw ConfigError(flag + " " + endpoint +
                        ": without CurveZMQ keys, binding is loopback or ipc only (give "
                        "--curve-key and --curve-authorized, or --insecure)");
    }
  }
  return std::nullopt;
}

std::optional<ClientKeys> client_keys_from_flags(const std::string& key_path,
                                                 const std::string& server_key_path,
                                                 std::string_view server_flag) {
  if (key_path.empty() && server_key_path.empty()) return std::nullopt;
  if (key_path.empty() || server_key_path.empty()) {
    throw ConfigError("give both --curve-key FILE and " + std::string(server_flag) +
                      " FILE, or neither");
  }
  return load_client_keys(key_path, server_key_path);
}

std::string curve_status(const std::optional<ServerKeys>& keys) {
  if (keys) {
    const std::size_t n = keys->authorized.size();
    return "CurveZMQ on, " + std::to_string(n) + (n == 1 ? " authorized key" : " authorized keys");
  }
  return "no CurveZMQ keys: traffic is neither encrypted nor authenticated (loopback only "
         "unless --insecure)";
}

CurveAuthenticator::CurveAuthenticator(zmq::context_t& zmq, std::vector<AuthorizedKey> authorized,
                                       Logger log)
    : handler_(zmq, zmq::socket_type::rep), log_(std::move(log)) {
  for (auto& key : authorized) names_.emplace(key.public_key, std::move(key.name));
  handler_.set(zmq::sockopt::linger, 0);
  try {
    handler_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    throw Error(std::string("CurveZMQ: cannot bind the ZAP handler (one per context): ") +
                e.what());
  }
  // The socket moves to the thread; thread creation orders the two.
  thread_ = std::thread([this] { serve(); });
}

CurveAuthenticator::~CurveAuthenticator() {
  stop_.store(true);
  thread_.join();
}

void CurveAuthenticator::serve() {
  std::vector<zmq::message_t> request;
  while (!stop_.load()) {
    zmq::pollitem_t item{handler_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(kPollIntervalMs)) <= 0) continue;
      request.clear();
      if (!zmq::recv_multipart(handler_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
        continue;
      }
      answer(request);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      if (e.num() == ETERM) return;  // the context is shutting down
      log_.error("ZAP handler stopped", {{"reason", e.what()}});
      return;
    }
  }
}

// RFC 27 request: version, request id, domain, address, identity, mechanism,
// credentials (CURVE: the client's 32-byte public key).
void CurveAuthenticator::answer(std::vector<zmq::message_t>& request) {
  const bool well_formed = request.size() >= 6 && view(request[0]) == kZapVersion;
  const std::string request_id = request.size() >= 2 ? request[1].to_string() : std::string();
  const std::string domain = request.size() >= 3 ? request[2].to_string() : std::string();
  const std::string address = request.size() >= 4 ? request[3].to_string() : std::string();
  const bool is_curve = well_formed && view(request[5]) == "CURVE" && request.size() == 7;
  const std::string key = is_curve ? z85(request[6]) : std::string();

  std::string status = "400", text, user;
  if (!well_formed) {
    text = "malformed ZAP request";
    note_rejection(key, address, domain, text);
  } else if (!is_curve) {
    text = "CURVE required";
    note_rejection(key, address, domain, "mechanism " + request[5].to_string());
  } else if (const auto it = names_.find(key); it == names_.end()) {
    text = "unknown client key";
    note_rejection(key, address, domain, text);
  } else {
    status = "200";
    text = "OK";
    user = it->second.empty() ? key : it->second;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    log_.debug("accepted client",
               {{"key", key}, {"name", it->second}, {"peer", address}, {"domain", domain}});
  }
  std::array<zmq::const_buffer, 6> reply{zmq::buffer(kZapVersion), zmq::buffer(request_id),
                                         zmq::buffer(status),      zmq::buffer(text),
                                         zmq::buffer(user),        zmq::const_buffer()};
  zmq::send_multipart(handler_, reply);
}

void CurveAuthenticator::note_rejection(const std::string& key, const std::string& address,
                                        const std::string& domain, std::string_view reason) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  // Rejected clients reconnect every ZMQ_RECONNECT_IVL: one line per key per
  // kRepeatLogSeconds, with the attempts in between.
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
  if (rejections_.size() > 4096) rejections_.clear();  // bounded under a flood of keys
  auto [it, fresh] = rejections_.try_emplace(key);
  Rejection& r = it->second;
  ++r.since_logged;
  if (!fresh && now_s - r.last_logged_s < kRepeatLogSeconds) return;
  log_.warn("rejected client", {{"key", key.empty() ? "-" : key},
                                {"peer", address},
                                {"domain", domain},
                                {"reason", std::string(reason)},
                                {"attempts", std::to_string(r.since_logged)}});
  r.last_logged_s = now_s;
  r.since_logged = 0;
}

}  // namespace recloop
