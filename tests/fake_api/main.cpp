// pipeline-fake-api: a deterministic fake of the MapleStory Open API (Nexon) for tests, benchmarks and demos.
#include "common.hpp"
#include "dataset.hpp"
#include "endpoints.hpp"
#include "faults.hpp"
#include "handlers.hpp"
#include "static_dump.hpp"
#include "stats.hpp"
#include "wire.hpp"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <iostream>
#include <memory>
#include <sys/socket.h>
#include <thread>

namespace {

/// Command-line options that are not part of the dataset or the faults.
struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string port_file;
    int threads = 512;  ///< httplib keeps a worker per open connection: several hundred requests in flight
    std::string dump_dir;
    std::string date;
    std::string tls_cert;  ///< PEM certificate: serve https instead of http
    std::string tls_key;   ///< PEM private key of tls_cert
};

/// Writes the port to path atomically (path.tmp, then rename).
void write_port_file(const std::string& path, int port) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

/// Blocks SIGINT/SIGTERM in every thread (the pool inherits the mask) so one thread can sigwait for them.
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client closing early must not kill the server
    return set;
}

/// Serves until SIGINT/SIGTERM; returns the exit code.
int serve(const ServerOptions& options, int characters, fake_api::ApiContext& context, const sigset_t& stop_signals) {
    const bool tls = !options.tls_cert.empty();
    std::unique_ptr<httplib::Server> owned;
    if (tls) {
        auto secure = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
        if (!secure->is_valid()) {
            std::cerr << "pipeline-fake-api: cannot load --tls-cert " << options.tls_cert << " / --tls-key "
                      << options.tls_key << '\n';
            return 1;
        }
        owned = std::move(secure);
    } else {
        owned = std::make_unique<httplib::Server>();
    }
    httplib::Server& server = *owned;
    const auto threads = static_cast<std::size_t>(options.threads);
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_keep_alive_max_count(1000000);
    server.set_tcp_nodelay(true);
    // Without SO_REUSEPORT (httplib's default) a second server on a busy port fails instead of sharing it.
    int listen_fd = -1;
    server.set_socket_options([&listen_fd](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd = sock;
    });
    fake_api::register_routes(server, context);

    const int port = options.port == 0 ? server.bind_to_any_port(options.host)
                                       : (server.bind_to_port(options.host, options.port) ? options.port : -1);
    if (port <= 0) {
        std::cerr << "pipeline-fake-api: cannot bind " << options.host << ':' << options.port << '\n';
        return 1;
    }
    if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);  // the packaged httplib listens with a backlog of 5
    if (!options.port_file.empty()) write_port_file(options.port_file, port);
    std::cout << "pipeline-fake-api listening on " << (tls ? "https" : "http") << "://" << options.host << ':' << port << " ("
              << characters << " characters)" << std::endl;

    std::atomic<bool> finished{false};
    std::thread watcher([&] {
        int signal_number = 0;
        sigwait(&stop_signals, &signal_number);
        // Retry stop() (a call that lands before listen starts is a no-op); workers blocked on idle
        // keep-alive connections would delay the exit by up to the keep-alive timeout, so cut that short.
        for (int attempt = 0; !finished; ++attempt) {
            if (attempt == 50) std::_Exit(0);
            server.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    const bool ok = server.listen_after_bind();
    finished = true;
    if (!ok) {
        std::cerr << "pipeline-fake-api: listen failed\n";
        std::exit(1);  // the watcher still waits for a signal; do not join it
    }
    watcher.join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pipeline-fake-api: a deterministic fake of the MapleStory Open API (Nexon) on cpp-httplib"};
    app.option_defaults()->always_capture_default();
    ServerOptions server;
    fake_api::DatasetOptions data;
    fake_api::FaultOptions faults;
    std::string key = "test-key";
    std::vector<std::string> faults_on;
    for (const fake_api::EndpointInfo& info : fake_api::endpoints()) faults_on.emplace_back(info.name);
    fake_api::WireOptions wire;
    int gzip_bomb_mb = 1024;
    int gzip_cache_mb = 128;
    bool no_gzip = false;

    app.add_option("--host", server.host, "Address to listen on");
    app.add_option("--port", server.port, "Port to listen on (0 = let the OS choose)")->check(CLI::Range(0, 65535));
    app.add_option("--port-file", server.port_file, "Write the bound port here (atomically) once listening");
    app.add_option("--threads", server.threads,
                   "Worker threads: one per open connection, so the most requests in flight at once")
        ->check(CLI::Range(1, 4096));
    app.add_option("--key", key, "Expected x-nxopen-api-key");
    app.add_option("--characters", data.characters, "Ranking rows / characters")->check(CLI::NonNegativeNumber);
    app.add_option("--duplicate-every", data.duplicate_every,
                   "Every K-th ranking row repeats the previous row's character (0 = off)")->check(CLI::NonNegativeNumber);
    app.add_option("--refuse-names", data.refuse_names, "Fraction of names whose /id answers OPENAPI00003")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--refuse-ocids", data.refuse_ocids,
                   "Fraction (disjoint from refused names) whose basic/item-equipment answer OPENAPI00003")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--item-kb", data.item_kb, "Approximate item-equipment body size in KiB")->check(CLI::NonNegativeNumber);
    app.add_flag("--real-items", data.real_items,
                 "Item-equipment answers like the live API's: 24 items and three presets of 24, ~220 KB, ~7x "
                 "compressible (overrides --item-kb)");
    app.add_option("--seed", faults.seed, "Seed of the random faults");
    app.add_option("--latency-ms", faults.latency_ms, "Sleep before answering each API request")->check(CLI::NonNegativeNumber);
    app.add_option("--fail-500", faults.fail_500, "Fraction answered 500 OPENAPI00001")->check(CLI::Range(0.0, 1.0));
    app.add_option("--fail-503", faults.fail_503, "Fraction answered 503 OPENAPI00011")->check(CLI::Range(0.0, 1.0));
    app.add_option("--fail-429", faults.fail_429, "Fraction answered 429 OPENAPI00007")->check(CLI::Range(0.0, 1.0));
    app.add_option("--retry-after", faults.retry_after, "Retry-After header for --fail-429 answers (empty = none)");
    app.add_option("--fail-prepare", faults.fail_prepare, "Fraction answered 400 OPENAPI00009")->check(CLI::Range(0.0, 1.0));
    app.add_option("--truncate", faults.truncate, "Fraction of 200 answers cut after half the body")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--faults-on", faults_on,
                   "Endpoint kinds (below) or API paths (/maplestory/v1/character/stat) that --code, the "
                   "random faults, --huge-first and --gzip-bomb-first apply to (not latency, rate limit, "
                   "forbid, --lb-503-*)")
        ->delimiter(',')
        ->check(CLI::Validator(
            [](std::string& value) -> std::string {
                if (fake_api::parse_endpoint(value) || value.starts_with("/maplestory/")) return {};
                return "'" + value + "' is neither an endpoint kind (see below) nor a /maplestory/ path";
            },
            "KIND|PATH"));
    app.add_option("--rate-limit", faults.rate_limit, "Max API requests per calendar second, beyond: 429 (0 = off)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--forbid", faults.forbid, "Answer every API request 403 OPENAPI00002");
    app.add_option("--error-message", faults.error_message,
                   "Message of every injected error answer (default: each code's usual text)");
    app.add_option("--code", faults.code,
                   "Answer requests (on --faults-on endpoints) with this error name, e.g. OPENAPI00010, with the "
                   "live API's HTTP status for it (400 for an undocumented name) and --retry-after if given");
    app.add_option("--code-first", faults.code_first, "--code answers only the first N such requests (0 = all)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--code-for-ms", faults.code_for_ms,
                   "--code answers only during this many ms after the first API request, e.g. a maintenance "
                   "window (0 = no end)")->check(CLI::NonNegativeNumber);
    app.add_option("--daily-allowance", faults.daily_allowance,
                   "Calls the key may make per day; beyond, 429 OPENAPI00007 with Retry-After until midnight in "
                   "Seoul (0 = unlimited)")->check(CLI::NonNegativeNumber);
    app.add_option("--huge-mb", faults.huge_mb, "Size of the oversized answers of --huge-first (streamed, chunked)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--huge-first", faults.huge_first,
                   "The first N 200 answers (on --faults-on endpoints) are --huge-mb MB instead")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--gzip-bomb-first", faults.gzip_bomb_first,
                   "The first N 200 answers (on --faults-on endpoints) are a gzip bomb: a small body sent "
                   "with Content-Encoding: gzip whatever the request accepts, inflating to --gzip-bomb-mb "
                   "MiB of JSON")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--gzip-bomb-mb", gzip_bomb_mb,
                   "What the gzip bomb inflates to, in MiB (~1 KB on the wire per MiB)")
        ->check(CLI::Range(1, 65536));
    app.add_flag("--no-gzip", no_gzip,
                 "Never gzip answers (default: gzip when the request's Accept-Encoding accepts it)");
    app.add_option("--gzip-level", wire.gzip_level,
                   "Level of gzipped answers (libdeflate: 1 fastest .. 12 smallest; 6 is like gzip -6)")
        ->check(CLI::Range(1, 12));
    app.add_option("--gzip-cache-mb", gzip_cache_mb,
                   "Keep gzipped 200 answers up to this many MiB: a repeated request is neither generated "
                   "nor compressed again (0 = off)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--lb-503-first", faults.lb_503_first,
                   "A load balancer answers the first N API requests (any endpoint, before the key check) "
                   "503 with an HTML page and Retry-After (0 = no count limit; off unless this or "
                   "--lb-503-for-ms)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--lb-503-for-ms", faults.lb_503_for_ms,
                   "... only during this many ms after the first API request (0 = no time limit)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--lb-503-retry-after", faults.lb_503_retry_after,
                   "Retry-After of the load balancer's 503");
    app.add_option("--guilds", data.guilds,
                   "Guilds in all (0 = --characters / 4); never fewer than the characters' own guilds "
                   "(character_guildname in world_name)")->check(CLI::NonNegativeNumber);
    app.add_option("--nameless-every", data.nameless_every,
                   "Ranking rows K, 2K, ... have a null (odd multiples) or missing (even) character_name (0 = off)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--empty-every", data.empty_every,
                   "Characters K, 2K, ... answer basic, item-equipment and every character/<x>, user/<x> "
                   "with every field null but date (0 = off)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--tls-cert", server.tls_cert, "Serve https with this PEM certificate (needs --tls-key)");
    app.add_option("--tls-key", server.tls_key, "PEM private key of --tls-cert");
    app.add_option("--dump-static", server.dump_dir, "Write static files for nginx into this directory and exit");
    app.add_option("--date", server.date, "Date (YYYY-MM-DD) of the --dump-static files");
    app.footer("Endpoint kinds (for --faults-on; the keys of /_stats \"requests\"), under /maplestory/v1/:\n" +
               fake_api::endpoint_help() +
               "/_stats counts the traffic (POST /_reset_stats zeroes it); /_expected gives the record "
               "counts a correct harvester produces; docs/fake-api.md describes both.");
    CLI11_PARSE(app, argc, argv);

    for (const std::string& name : faults_on) {
        if (const auto endpoint = fake_api::parse_endpoint(name)) {
            faults.faults_on[static_cast<std::size_t>(*endpoint)] = true;
        } else {
            faults.faults_on_paths.push_back(name);
        }
    }
    wire.gzip = !no_gzip;

    const bool serving = server.dump_dir.empty();
    const sigset_t stop_signals = serving ? block_stop_signals() : sigset_t{};
    try {
        const fake_api::Dataset dataset(data);
        if (!serving) {
            if (!fake_api::is_valid_date(server.date)) {
                std::cerr << "pipeline-fake-api: --dump-static needs --date YYYY-MM-DD\n";
                return 2;
            }
            fake_api::dump_static(dataset, server.dump_dir, server.date);
            return 0;
        }
        if (faults.gzip_bomb_first > 0) {
            wire.gzip_bomb_inflated = static_cast<std::size_t>(gzip_bomb_mb) << 20;
            wire.gzip_bomb = fake_api::gzip_bomb(wire.gzip_bomb_inflated);
        }
        fake_api::Faults fault_injector(faults);
        fake_api::Stats stats;
        fake_api::ApiContext context{dataset, fault_injector, stats, key, std::move(wire),
                                     fake_api::GzipCache(static_cast<std::size_t>(gzip_cache_mb) << 20)};
        return serve(server, data.characters, context, stop_signals);
    } catch (const std::exception& error) {
        std::cerr << "pipeline-fake-api: " << error.what() << '\n';
        return 1;
    }
}
