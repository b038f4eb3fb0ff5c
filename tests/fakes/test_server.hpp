#pragma once
// Real sockets on 127.0.0.1 for HTTP tests: an httplib server on an OS-chosen port, and a port that refuses.

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace pipeline::tests {

using namespace std::chrono_literals;

/// An httplib server on an OS-chosen port; register handlers on `server`, then start().
class TestServer {
  public:
    TestServer() {
        // Keep-alive connections each hold a worker thread, so give it more than we have in flight.
        server.new_task_queue = [] { return new httplib::ThreadPool(48); };
        server.set_keep_alive_max_count(1000);
        server.set_tcp_nodelay(true); // else Nagle + delayed ACKs add ~40 ms to every response
    }
    ~TestServer() {
        server.stop();
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    void start() {
        m_port = server.bind_to_any_port("127.0.0.1");
        REQUIRE(m_port > 0);
        m_thread = std::thread([this] { server.listen_after_bind(); });
        // stop() before the listen loop is running would be lost, so wait for it.
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        REQUIRE(server.is_running());
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }

    httplib::Server server;

  private:
    std::thread m_thread;
    int m_port = 0;
};

/// A port where nothing listens: bound but not listening, so connects are refused.
class RefusingPort {
  public:
    RefusingPort() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
    }
    ~RefusingPort() { ::close(m_fd); }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/"; }

  private:
    int m_fd = -1;
    int m_port = 0;
};

} // namespace pipeline::tests
