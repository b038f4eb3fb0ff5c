#include "core/snapshot/stream_encoder.hpp"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

// Plain text: copied into blocks of the gzip size so that the sink sees few, large writes.
class PlainEncoder final : public StreamEncoder {
  public:
    explicit PlainEncoder(EncodedSink out) : m_out(std::move(out)) {}
    void add(std::string_view data) override {
        m_block.append(data);
        if (m_block.size() >= k_gzip_block_bytes) {
            emit();
        }
    }
    void finish() override { emit(); }
    void abandon() override { m_block.clear(); }

  private:
    void emit() {
        std::string block = std::move(m_block);
        m_block.clear();
        m_out(block);
    }
    EncodedSink m_out;
    std::string m_block;
};

// gzip: every block becomes one gzip member (a .gz file may hold several; every reader joins them), compressed
// by a pool of workers with libdeflate, which compresses whole buffers about twice as fast as zlib at the same
// ratio. Finished members are emitted strictly in block order by the calling thread.
class GzipEncoder final : public StreamEncoder {
  public:
    GzipEncoder(unsigned threads, EncodedSink out) : m_out(std::move(out)), m_max_in_flight(threads + 2) {
        for (unsigned i = 0; i < threads; ++i) {
            m_compressors.push_back(libdeflate_alloc_compressor(6));
            if (m_compressors.back() == nullptr) {
                release_compressors();
                throw Error(ExitCode::Failed, "libdeflate: cannot create a gzip compressor");
            }
        }
        for (libdeflate_compressor* compressor : m_compressors) {
            m_workers.emplace_back([this, compressor] { work(compressor); });
        }
    }
    ~GzipEncoder() override {
        {
            const std::lock_guard lock(m_mutex);
            m_closing = true;
        }
        m_wake_workers.notify_all();
        for (std::thread& worker : m_workers) {
            worker.join();
        }
        release_compressors();
    }
    GzipEncoder(const GzipEncoder&) = delete;
    GzipEncoder& operator=(const GzipEncoder&) = delete;

    void add(std::string_view data) override {
        if (m_block.capacity() < k_gzip_block_bytes) {
            m_block.reserve(k_gzip_block_bytes + 65536);
        }
        m_block.append(data);
        if (m_block.size() >= k_gzip_block_bytes) {
            submit();
        }
    }

    void finish() override {
        if (!m_block.empty()) {
            submit();
        }
        while (!m_jobs.empty()) {
            emit_front();
        }
    }

    void abandon() override {
        m_block.clear();
        std::unique_lock lock(m_mutex);
        // Workers hold pointers into the queued jobs: wait for them, then forget the output.
        m_done.wait(lock, [&] {
            return std::ranges::all_of(m_jobs, [](const std::unique_ptr<Job>& j) { return j->done; });
        });
        m_jobs.clear();
        m_next = 0;
    }

  private:
    struct Job {
        std::string input;
        std::string output;
        bool done = false;
    };

    void submit() {
        auto job = std::make_unique<Job>();
        job->input = std::move(m_block);
        m_block = std::string();
        {
            const std::lock_guard lock(m_mutex);
            m_jobs.push_back(std::move(job));
        }
        m_wake_workers.notify_one();
        // Emit what is ready without waiting; wait only when too many blocks are in flight (memory bound).
        for (;;) {
            bool ready = false;
            {
                const std::lock_guard lock(m_mutex);
                ready = !m_jobs.empty() && m_jobs.front()->done;
            }
            if (ready || m_jobs.size() > m_max_in_flight) {
                emit_front();
            } else {
                break;
            }
        }
    }

    // Waits for the oldest block, then hands its member to the sink outside the lock.
    void emit_front() {
        std::unique_ptr<Job> job;
        {
            std::unique_lock lock(m_mutex);
            m_done.wait(lock, [&] { return m_jobs.front()->done; });
            job = std::move(m_jobs.front());
            m_jobs.pop_front();
            --m_next;
        }
        m_out(job->output);
    }

    void release_compressors() {
        for (libdeflate_compressor* compressor : m_compressors) {
            libdeflate_free_compressor(compressor);
        }
        m_compressors.clear();
    }

    void work(libdeflate_compressor* compressor) {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_wake_workers.wait(lock, [&] { return m_closing || m_next < m_jobs.size(); });
            if (m_closing) {
                break;
            }
            Job& job = *m_jobs[m_next++];
            lock.unlock();
            job.output.resize(libdeflate_gzip_compress_bound(compressor, job.input.size()));
            // The output buffer has the library's bound, so the member always fits.
            job.output.resize(libdeflate_gzip_compress(compressor, job.input.data(), job.input.size(),
                                                       job.output.data(), job.output.size()));
            job.input = std::string();
            lock.lock();
            job.done = true;
            m_done.notify_all();
        }
    }

    EncodedSink m_out;
    std::size_t m_max_in_flight;
    std::string m_block;
    std::mutex m_mutex;
    std::condition_variable m_wake_workers;
    std::condition_variable m_done;
    std::deque<std::unique_ptr<Job>> m_jobs; // oldest first; [0, m_next) taken by a worker
    std::size_t m_next = 0;
    bool m_closing = false;
    std::vector<libdeflate_compressor*> m_compressors; // one per worker
    std::vector<std::thread> m_workers; // last: joined before the jobs they point into go away
};

// zstd: one frame per chunk, compressed by libzstd's own worker threads (ZSTD_c_nbWorkers), which cut the input
// into jobs and still produce a single frame.
class ZstdEncoder final : public StreamEncoder {
  public:
    ZstdEncoder(unsigned threads, EncodedSink out) : m_out(std::move(out)), m_context(ZSTD_createCCtx()) {
        if (m_context == nullptr) {
            throw Error(ExitCode::Failed, "zstd: cannot create a compression context");
        }
        ZSTD_CCtx_setParameter(m_context, ZSTD_c_compressionLevel, 3);
        // Without the frame checksum a corrupted chunk can decompress "successfully" to different bytes.
        ZSTD_CCtx_setParameter(m_context, ZSTD_c_checksumFlag, 1);
        const std::size_t rc = ZSTD_CCtx_setParameter(m_context, ZSTD_c_nbWorkers, static_cast<int>(threads));
        if (!ZSTD_isError(rc)) {
            ZSTD_CCtx_setParameter(m_context, ZSTD_c_jobSize, static_cast<int>(k_zstd_job_bytes));
        }
    }
    ~ZstdEncoder() override { ZSTD_freeCCtx(m_context); }
    ZstdEncoder(const ZstdEncoder&) = delete;
    ZstdEncoder& operator=(const ZstdEncoder&) = delete;

    void add(std::string_view data) override { pump(data, ZSTD_e_continue); }
    void finish() override { pump({}, ZSTD_e_end); }
    void abandon() override { ZSTD_CCtx_reset(m_context, ZSTD_reset_session_only); }

  private:
    void pump(std::string_view data, ZSTD_EndDirective mode) {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        for (;;) {
            ZSTD_outBuffer out{m_scratch.data(), m_scratch.size(), 0};
            const std::size_t remaining = ZSTD_compressStream2(m_context, &out, &in, mode);
            if (ZSTD_isError(remaining)) {
                throw Error(ExitCode::Failed, std::string("zstd: ") + ZSTD_getErrorName(remaining));
            }
            if (out.pos > 0) {
                m_out(std::string_view(m_scratch.data(), out.pos));
            }
            if (mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size) {
                return;
            }
        }
    }
    EncodedSink m_out;
    ZSTD_CCtx* m_context;
    std::vector<char> m_scratch = std::vector<char>(ZSTD_CStreamOutSize());
};

} // namespace

std::unique_ptr<StreamEncoder> make_stream_encoder(Compression compression, unsigned threads, EncodedSink out) {
    threads = std::max(threads, 1u);
    switch (compression) {
    case Compression::Gzip:
        return std::make_unique<GzipEncoder>(threads, std::move(out));
    case Compression::Zstd:
        return std::make_unique<ZstdEncoder>(threads, std::move(out));
    case Compression::None:
        break;
    }
    return std::make_unique<PlainEncoder>(std::move(out));
}

unsigned compression_threads(int configured) {
    if (configured > 0) {
        return static_cast<unsigned>(configured);
    }
    return std::max(std::thread::hardware_concurrency(), 1u);
}

} // namespace pipeline::core
