// SPDX-License-Identifier: Apache-2.0
// CurveZMQ on the live sockets: key files, the authorized-keys list, and the
// ZAP handler that admits only listed clients.
//
// CurveZMQ (RFC 26) encrypts every connection and authenticates both ends with
// Curve25519 key pairs; the binding side ("server") knows its own secret key,
// a connecting side ("client") knows its own key pair and the server's public
// key. Which clients a server admits is decided by a ZAP handler (RFC 27): a
// REP socket bound to inproc://zeromq.zap.01 in the server's zmq::context_t,
// asked once per handshake with the client's public key. CurveAuthenticator is
// that handler; it answers 200 for a listed key and 400 otherwise.
//
// Key files (written by `recloop keygen --out NAME`), text, one "name = value"
// per line, lines starting with '#' and blank lines ignored; keys are 40
// characters of Z85 (RFC 32) encoding 32 bytes:
//
//   NAME.key (mode 0600; a key file readable by group or others is refused)
//     # recloop CurveZMQ key pair: keep secret
//     public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//     secret-key = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
//   NAME.pub (give it to the peers)
//     # recloop CurveZMQ public key
//     public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
//
// An authorized-keys file lists the clients a server admits, one per line: a
// Z85 public key, optionally followed by white space and a name that is used
// in log lines; '#' starts a comment line, blank lines are ignored.
//
//   # applications allowed to write feedback
//   rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7  web-frontend
//
// Every loader throws ConfigError naming the file (and line) on bad input.
//
// Wiring: a process that binds with keys creates one CurveAuthenticator per
// context before binding; apply_server_keys() refuses a context without one,
// and sets ZMQ_ZAP_ENFORCE_DOMAIN so that a handshake with no handler running
// is refused rather than admitted. A server socket rejects unknown clients
// during the handshake: they never see a message and the server never sees
// theirs. A client with the wrong server key cannot even start the handshake
// and equally gets nothing; clients keep reconnecting (ZeroMQ's reconnect
// interval), so every attempt is counted.
#pragma once

#include "feedback/logger.h"

#include <zmq.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace recloop {

// Length of a Z85-encoded Curve25519 key.
inline constexpr std::size_t kCurveKeyChars = 40;

struct KeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// Makes a fresh key pair (libzmq's zmq_curve_keypair, from its CSPRNG).
// Throws Error if libzmq was built without CURVE.
KeyPair generate_key_pair();

// True if libzmq on this machine supports CURVE.
bool curve_available();

// True if `text` is 40 characters of Z85 that decode to 32 bytes.
bool is_z85_key(std::string_view text);

struct AuthorizedKey {
  std::string public_key;  // Z85
  std::string name;        // from the file; empty if none was given
};

// The binding side's keys and the clients it admits.
struct ServerKeys {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
  std::vector<AuthorizedKey> authorized;
};

// The connecting side's keys and the public key of the server it expects.
struct ClientKeys {
  std::string public_key;     // Z85
  std::string secret_key;     // Z85
  std::string server_public;  // Z85
};

// Writes `stem`.key (mode 0600) and `stem`.pub. Throws ConfigError if either
// exists and !overwrite, Error if a file cannot be written.
void write_key_files(const std::string& stem, const KeyPair& keys, bool overwrite);

// Reads a .key file; checks that the public key belongs to the secret key.
KeyPair load_key_pair(const std::string& path);
// Reads the public key of a .pub (or .key) file.
std::string load_public_key(const std::string& path);
// Reads an authorized-keys file; a file listing no key is an error.
std::vector<AuthorizedKey> load_authorized_keys(const std::string& path);

ServerKeys load_server_keys(const std::string& key_path, const std::string& authorized_path);
ClientKeys load_client_keys(const std::string& key_path, const std::string& server_key_path);

// Makes `socket` a CURVE server. Call before bind(). `domain` is the ZAP
// domain, reported in log lines (e.g. "collector"). Throws Error if no
// CurveAuthenticator runs on `zmq`, the socket's context.
void apply_server_keys(zmq::context_t& zmq, zmq::socket_t& socket, const ServerKeys& keys,
                       std::string_view domain);
// Makes `socket` a CURVE client of the server holding keys.server_public.
// Call before connect().
void apply_client_keys(zmq::socket_t& socket, const ClientKeys& keys);

// True for endpoints only this machine can reach: tcp on 127.0.0.1,
// localhost or [::1], ipc and inproc.
bool is_loopback_endpoint(std::string_view endpoint);

// The command line's rules, shared by every verb (flag names as the verbs
// spell them). A binding verb gives --curve-key and --curve-authorized, or
// neither; without keys every endpoint it binds must be loopback unless
// `insecure`. `endpoints` are (flag, endpoint) pairs, empty endpoints skipped.
// Throws ConfigError naming the flag and value.
std::optional<ServerKeys> server_keys_from_flags(
    const std::string& key_path, const std::string& authorized_path,
    const std::vector<std::pair<std::string, std::string>>& endpoints, bool insecure);
// A connecting verb gives --curve-key and `server_flag` (the server's .pub),
// or neither.
std::optional<ClientKeys> client_keys_from_flags(const std::string& key_path,
                                                 const std::string& server_key_path,
                                                 std::string_view server_flag);
// The start-up line of a binding verb: "CurveZMQ on, N authorized keys" or
// that there is no encryption and what is bound.
std::string curve_status(const std::optional<ServerKeys>& keys);

// The ZAP handler of one context (there can be only one per context).
// Thread safety: construct and destroy on one thread; rejected_clients() and
// accepted_clients() may be called from any thread.
class CurveAuthenticator {
 public:
  // Binds inproc://zeromq.zap.01 on `zmq` and starts answering. Rejections
  // are logged at warn level (at most once per key every kRepeatLogSeconds,
  // with the number of attempts since), admissions at debug level. Throws
  // Error if another handler is bound on this context.
  CurveAuthenticator(zmq::context_t& zmq, std::vector<AuthorizedKey> authorized, Logger log);
  // Stops answering (within kPollIntervalMs) and unbinds.
  ~CurveAuthenticator();
  CurveAuthenticator(const CurveAuthenticator&) = delete;
  CurveAuthenticator& operator=(const CurveAuthenticator&) = delete;

  // Handshakes refused so far (unknown key or not CURVE); a client that keeps
  // reconnecting counts once per attempt.
  std::uint64_t rejected_clients() const { return rejected_.load(std::memory_order_relaxed); }
  std::uint64_t accepted_clients() const { return accepted_.load(std::memory_order_relaxed); }
  std::size_t authorized_count() const { return names_.size(); }

  static constexpr int kRepeatLogSeconds = 60;
  static constexpr int kPollIntervalMs = 50;

 private:
  struct Rejection {
    std::int64_t last_logged_s = 0;
    std::uint64_t since_logged = 0;
  };
  void serve();
  void answer(std::vector<zmq::message_t>& request);
  void note_rejection(const std::string& key, const std::string& address,
                      const std::string& domain, std::string_view reason);

  zmq::socket_t handler_;
  std::unordered_map<std::string, std::string> names_;  // Z85 key -> name
  Logger log_;
  std::unordered_map<std::string, Rejection> rejections_;  // handler thread only
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> rejected_{0}, accepted_{0};
  std::thread thread_;
};

}  // namespace recloop
