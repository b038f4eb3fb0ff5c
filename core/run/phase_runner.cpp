#include "core/run/phase_runner.hpp"

#include <cstdio>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/api/api_errors.hpp"
#include "core/api/empty_answer.hpp"
#include "core/api/items.hpp"
#include "core/api/records.hpp"
#include "core/run/item_list.hpp"
#include "core/run/reuse.hpp"
#include "core/snapshot/chunk_writer.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/state/checkpoint.hpp"
#include "core/state/run_record.hpp"
#include "core/util/bounded_queue.hpp"
#include "core/util/log_context.hpp"
#include "core/util/process.hpp"
#include "core/util/text.hpp"
#include "core/util/time_spent.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

using namespace std::chrono;

namespace {

constexpr milliseconds k_progress_interval{1000}; // ledger writes between chunk commits
constexpr milliseconds k_notify_interval{200};    // on_progress calls (live display, metrics)
// Answers waiting for the writer: enough to ride out a slow block, few enough that memory stays flat with
// 220 KB answers (see docs/compression.md).
constexpr std::size_t k_queue_bytes = 8u << 20;

// Thrown into the network thread when the writer side gave up.
struct WriterGone {};

SystemTime now_utc() { return system_clock::now(); }

// One run of one phase; its methods are the steps of run_phase, top to bottom.
class PhaseRun {
  public:
    PhaseRun(const PhaseEnvironment& env, const PhaseDef& def, std::string date, StopFlag& stop)
        : m_env(env), m_config(*env.config), m_def(def), m_phase(def.name), m_date(std::move(date)), m_stop(stop),
          m_record(env.run_dir, def.name), m_sink(env.make_sink()) {}

    void begin(bool resume);
    void open_upstream();
    FetchEnd fetch_and_write();
    PhaseOutcome finish(RunState state, std::optional<std::string> error);
    void commit_chunk();
    void commit_if_full(); // commits the open chunk once it holds chunk.records records

  private:
    void accept(FetchedItem&& fetched);
    void report_progress(bool force);
    void log_call_budget(std::size_t items) const;
    Progress progress() const;
    std::size_t item_count() const { return m_upstream_items ? m_fetchable + unusable().size() : 0; }
    const StringTable& unusable() const { return m_upstream_items->unusable; }
    std::string item_key(std::size_t index) const {
        return index < m_fetchable ? m_items->describe(index, m_date)
                                   : std::string(unusable()[index - m_fetchable]);
    }
    void list_items();
    void reject_unusable();
    void reuse_earlier_answers();
    std::string prefix() const { return run_prefix(m_date, m_phase, m_cp.run_id); }
    void publish_manifest();
    void apply_reject_policy(RunState& state, std::optional<std::string>& error) const;
    void record_end(RunState& state, std::optional<std::string>& error);
    void save_final_checkpoint();

    const PhaseEnvironment& m_env;
    const Config& m_config;
    const PhaseDef& m_def;
    std::string m_phase; // its name
    std::string m_date;
    StopFlag& m_stop;
    RunRecord m_record;
    std::optional<StopWatcher::Watch> m_watch; // unbinds the stop flag however the run ends
    std::unique_ptr<Sink> m_sink;
    Checkpoint m_cp;
    std::optional<Manifest> m_upstream;
    std::shared_ptr<const UpstreamItems> m_upstream_items; // tuples and unusable rows (shared with siblings)
    std::optional<ItemList> m_items;                      // what to fetch: items 0 .. m_fetchable - 1
    std::size_t m_fetchable = 0;                          // the unusable upstream rows come after, rejected
    // Records counted apart in progress: of committed chunks, and of the open chunk.
    struct Counted {
        std::uint64_t empty = 0;  // empty answers
        std::uint64_t reused = 0; // items copied from an earlier date's snapshot
    };
    Counted m_committed;
    Counted m_open;
    StopReason m_stop_reason = StopReason::None;
    std::unique_ptr<ChunkWriter> m_writer;
    std::vector<std::size_t> m_chunk_items;   // indexes of the items whose records are in the open chunk
    std::vector<RejectedItem> m_new_rejects;  // refused since the last commit
    FetchCounters m_counters;
    Progress m_carried;                        // counters of earlier attempts (resume)
    steady_clock::time_point m_started = steady_clock::now();
    steady_clock::time_point m_last_progress{};
    steady_clock::time_point m_last_notify{};
    TimeSpent m_bookkeeping; // writing checkpoints and the ledger (logged at the end)
    std::size_t m_commits = 0;
};

void PhaseRun::begin(bool resume) {
    if (resume) {
        std::optional<Checkpoint> found = find_resumable(m_env.run_dir, m_phase, m_date);
        if (!found) {
            throw usage_error("nothing to resume: no STOPPED or FAILED run of " + m_phase +
                              " for " + m_date + " (start a new one without --resume)");
        }
        m_cp = std::move(*found);
        m_carried = m_cp.counters;
        m_committed = {m_carried.empty, m_carried.reused};
        spdlog::info("{}: resuming run {} ({} items and {} chunks already committed)", m_phase,
                     m_cp.run_id, m_cp.done.count(), m_cp.chunks.size());
    } else {
        m_cp.phase = m_phase;
        m_cp.date = m_date;
        m_cp.run_id = new_run_id();
        m_cp.started_at = format_utc(now_utc());
        m_cp.compression = m_config.sink.compression;
    }
    m_cp.state = RunState::Running;
    m_cp.error.reset();
    m_cp.pid = self_pid();
    m_cp.pid_start_ticks = self_start_ticks();
    m_record.start({m_cp.run_id, m_date, m_cp.started_at, m_cp.pid, m_cp.pid_start_ticks, m_sink->describe(),
                    progress()});
    log_context().run_id = m_cp.run_id;
    m_watch.emplace(m_env.watcher->watch(m_phase, m_cp.run_id, m_stop));
    spdlog::info("{}: run {} started for {} into {}", m_phase, m_cp.run_id, m_date, m_sink->describe());
}

void PhaseRun::open_upstream() {
    if (!m_def.upstream.empty()) {
        const std::string& up = m_def.upstream;
        if (!m_cp.upstream_run_id.empty()) {
            m_upstream = read_manifest(*m_sink, up, m_date, m_cp.upstream_run_id);
        } else {
            m_upstream = newest_completed(*m_sink, up, m_date);
        }
        if (!m_upstream) {
            throw Error(ExitCode::Failed, "no COMPLETED " + up + " snapshot for " + m_date + " in " +
                                              m_sink->describe() + ": run 'pipeline run " + up + " --date " +
                                              m_date + "' first");
        }
        m_cp.upstream_run_id = m_upstream->run_id;
    }
    list_items();
    if (m_cp.done.size() != 0 && m_cp.done.size() != item_count()) {
        throw Error(ExitCode::Failed, "cannot resume run " + m_cp.run_id + ": its input changed (" +
                                          std::to_string(m_cp.done.size()) + " items then, " +
                                          std::to_string(item_count()) + " now)");
    }
    m_cp.done.resize(item_count());
    reject_unusable();
    // Chunks published after the last checkpoint (a crash between rename and checkpoint) are not part of
    // the run: remove them, and any temporaries, before numbering resumes after the last committed chunk.
    for (const std::string& key : m_sink->list(prefix())) {
        const std::string name = key.substr(prefix().size());
        const bool committed = std::ranges::any_of(m_cp.chunks, [&](const ChunkEntry& c) { return c.name == name; });
        if (is_chunk_name(name) && !committed) {
            spdlog::warn("{}: removing chunk {} that was published after the last checkpoint", m_phase,
                         name);
            m_sink->remove(key);
        }
    }
    // Temporaries left by killed runs of this phase and date (this run's folder included).
    m_sink->clean_temporaries(m_date + "/" + m_phase + "/");
    m_writer = std::make_unique<ChunkWriter>(*m_sink, prefix(), m_cp.compression, m_cp.chunks.size() + 1,
                                             compression_threads(m_config.sink.compression_threads));
    save_checkpoint(m_env.run_dir, m_cp);
    report_progress(true);
}

// The items: pages without upstream; otherwise the distinct combinations of the upstream fields the phase
// names (shared with sibling phases naming the same ones), each times the list values and pages.
void PhaseRun::list_items() {
    if (!m_upstream) {
        m_upstream_items = std::make_shared<const UpstreamItems>();
    } else if (m_env.item_lists != nullptr) {
        m_upstream_items = m_env.item_lists->get(m_def.fields, *m_sink, *m_upstream);
    } else {
        m_upstream_items =
            std::make_shared<const UpstreamItems>(list_upstream_items(m_def.fields, *m_sink, *m_upstream));
    }
    m_items.emplace(m_def, std::shared_ptr<const StringTable>(m_upstream_items, &m_upstream_items->tuples));
    m_fetchable = m_items->size();
}

// Upstream records without a usable value of a named field cannot be fetched: they become rejects of this
// run (items after the fetchable ones) instead of failing it.
void PhaseRun::reject_unusable() {
    for (std::size_t index = m_fetchable; index < item_count(); ++index) {
        if (m_cp.done.contains(index)) {
            continue;
        }
        const std::string field = first_unusable_field(m_def.fields, unusable()[index - m_fetchable]);
        m_new_rejects.push_back({index, item_key(index), 0, "NO_" + to_upper(field),
                                 "the upstream " + m_def.upstream + " record has no usable '" + field +
                                     "' (missing, null, empty, or not a string or integer)"});
    }
    if (!unusable().empty()) {
        spdlog::warn("{}: {} upstream {} records have no usable {}: written to {}", m_phase, unusable().size(),
                     m_def.upstream, m_def.fields.size() == 1 ? m_def.fields.front() : "field", k_rejects_name);
    }
}

// reuse_days (docs/contract.md §1): copied records are committed in chunks like fetched ones, before any
// request, checking the stop flag at each chunk.
void PhaseRun::reuse_earlier_answers() {
    if (m_def.reuse_days <= 0) {
        return;
    }
    const std::size_t reused = reuse_earlier_records(*m_sink, m_def, *m_items, m_fetchable, m_cp.done, m_date, m_stop,
                                                     [&](std::string_view record, std::size_t item) {
                                                         m_writer->add(record);
                                                         m_chunk_items.push_back(item);
                                                         ++m_open.reused;
                                                         commit_if_full();
                                                     });
    commit_chunk();
    spdlog::info("{}: {} items copied from the snapshots of the last {} days instead of fetched", m_phase, reused,
                 m_def.reuse_days);
}

FetchEnd PhaseRun::fetch_and_write() {
    reuse_earlier_answers();
    std::unique_ptr<Transport> transport = m_env.make_transport();
    FetchSettings settings;
    settings.budget = m_env.budget;
    settings.concurrency = static_cast<std::size_t>(in_flight_cap(m_config.api));
    settings.max_attempts = m_config.api.max_attempts;
    settings.backoff_base = milliseconds(m_config.api.backoff_base_ms);
    settings.backoff_max = milliseconds(m_config.api.backoff_max_ms);
    settings.accept_body = [&def = m_def](const std::string& body) { return answer_ok(def, body); };
    settings.classify = classify_answer;
    settings.max_wait = seconds(m_config.api.max_wait_s);
    if (DailyQuota* quota = m_env.quota) {
        settings.before_send = [quota] { return quota->take() ? StopReason::None : StopReason::Quota; };
    }
    Fetcher fetcher(*transport, *m_env.limiter, settings, m_stop, m_counters);
    BoundedQueue<FetchedItem> queue((m_env.budget ? m_env.budget->limit() : settings.concurrency) * 4,
                                    k_queue_bytes);

    // The items still to fetch, listed before the network thread starts: the writer thread updates the
    // done set while that thread runs.
    std::vector<std::size_t> pending;
    for (std::size_t item = 0; item < m_fetchable; ++item) {
        if (!m_cp.done.contains(item)) {
            pending.push_back(item);
        }
    }
    log_call_budget(pending.size());
    // Paged items past a page that came back with no rows are not fetched (docs/contract.md §1: an empty
    // page ends the pages early); both lambdas run on the network thread.
    PageEnds page_ends;
    std::vector<std::size_t> skipped;
    std::size_t cursor = 0;
    auto next = [&]() -> std::optional<FetchTask> {
        while (cursor < pending.size()) {
            const std::size_t item = pending[cursor++];
            if (page_ends.past_end(*m_items, item)) {
                skipped.push_back(item);
                continue;
            }
            return FetchTask{item, m_items->url(m_config.api.base_url, item, m_date)};
        }
        return std::nullopt;
    };
    FetchEnd end = FetchEnd::Finished;
    std::exception_ptr network_error;
    std::thread network([&] {
        try {
            end = fetcher.run(next, [&](FetchedItem&& item) {
                if (m_def.pages > 0 && !item.rejected && answer_rows(m_def, item.body) == std::size_t{0}) {
                    page_ends.ended_at(*m_items, item.index);
                }
                const std::size_t bytes = item.body.size();
                if (!queue.push(std::move(item), bytes)) {
                    throw WriterGone{};
                }
            });
        } catch (const WriterGone&) {
        } catch (...) {
            network_error = std::current_exception();
        }
        queue.close();
    });
    try {
        while (!queue.drained()) {
            if (std::optional<FetchedItem> item = queue.pop(milliseconds(250))) {
                accept(std::move(*item));
            }
            report_progress(false);
        }
    } catch (...) {
        queue.close();
        m_stop.request(); // wakes the network thread so that it winds down at once
        network.join();
        throw;
    }
    network.join();
    if (network_error) {
        std::rethrow_exception(network_error);
    }
    m_chunk_items.insert(m_chunk_items.end(), skipped.begin(), skipped.end()); // done, with no records
    return end;
}

void PhaseRun::accept(FetchedItem&& fetched) {
    const std::string key = item_key(fetched.index);
    if (fetched.rejected) {
        m_new_rejects.push_back(
            {fetched.index, std::string(key), fetched.http_status, fetched.error_name, fetched.message});
        spdlog::debug("{}: item '{}' refused: {}", m_phase, key, fetched.message);
    } else {
        const bool ok = make_records(m_def, m_items->fields(fetched.index, m_date), m_date, fetched.body,
                                     [&](std::string_view record) { m_writer->add(record); });
        if (!ok) {
            throw Error(ExitCode::Failed, "the API's answer for '" + key + "' does not have the expected shape");
        }
        if (m_def.record == RecordShape::Wrap && m_def.rows.empty() && is_empty_answer(fetched.body)) {
            ++m_open.empty;
        }
        m_chunk_items.push_back(fetched.index);
    }
    commit_if_full();
}

void PhaseRun::commit_if_full() {
    if (m_writer->buffered() >= static_cast<std::uint64_t>(m_config.chunk_records)) {
        commit_chunk();
    }
}

void PhaseRun::commit_chunk() {
    if (!m_writer) {
        return; // failed before the upstream was open: nothing was fetched
    }
    std::optional<ChunkEntry> chunk;
    try {
        chunk = m_writer->commit();
    } catch (...) {
        // The chunk was streamed and cannot be published again: its items are not done, and a resumed run
        // fetches them again.
        m_chunk_items.clear();
        m_open = {};
        throw;
    }
    if (!chunk && m_new_rejects.empty() && m_chunk_items.empty()) {
        return;
    }
    if (chunk) {
        m_cp.chunks.push_back(*chunk);
        m_cp.records += chunk->records;
    }
    for (std::size_t item : m_chunk_items) {
        m_cp.done.add(item);
    }
    for (RejectedItem& reject : m_new_rejects) {
        m_cp.done.add(reject.index);
        m_cp.rejects.push_back(std::move(reject));
    }
    m_chunk_items.clear();
    m_new_rejects.clear();
    m_committed.empty += m_open.empty;
    m_committed.reused += m_open.reused;
    m_open = {};
    m_cp.counters = progress();
    {
        const ScopedTimer timer(m_bookkeeping);
        save_checkpoint(m_env.run_dir, m_cp);
    }
    ++m_commits;
    report_progress(true);
}

Progress PhaseRun::progress() const {
    Progress p;
    p.requests = m_carried.requests + m_counters.requests.load(std::memory_order_relaxed);
    p.retries = m_carried.retries + m_counters.retries.load(std::memory_order_relaxed);
    const RetryCounts fetched = m_counters.retry_counts();
    for (std::size_t i = 0; i < k_retry_class_count; ++i) {
        p.retries_by_class[i] = m_carried.retries_by_class[i] + fetched[i];
    }
    p.items_total = item_count();
    p.items_done = m_cp.done.count() + m_chunk_items.size() + m_new_rejects.size();
    p.records = m_cp.records;
    p.chunks = m_cp.chunks.size();
    p.rejected = m_cp.rejects.size() + m_new_rejects.size();
    p.empty = m_committed.empty + m_open.empty;
    p.reused = m_committed.reused + m_open.reused;
    p.in_flight = m_counters.in_flight.load(std::memory_order_relaxed);
    p.in_flight_target =
        m_env.budget ? m_env.budget->target() : static_cast<std::uint64_t>(in_flight_cap(m_config.api));
    p.answer_ms_p50 = m_counters.answer_ms_p50.load(std::memory_order_relaxed);
    return p;
}

// What the phase needs against what the day's budget still allows, said before the first call.
void PhaseRun::log_call_budget(std::size_t items) const {
    const std::uint64_t at_least = items;
    const std::uint64_t at_most = items * static_cast<std::uint64_t>(m_config.api.max_attempts);
    if (m_env.quota == nullptr) {
        spdlog::info("{}: {} items to fetch: {} calls at least, about {} at most with retries (no daily budget)",
                     m_phase, items, at_least, at_most);
        return;
    }
    const QuotaUse use = m_env.quota->use();
    spdlog::info("{}: {} items to fetch: {} calls at least, about {} at most with retries; {} of {} calls left "
                 "today ({}, Asia/Seoul)",
                 m_phase, items, at_least, at_most, use.remaining(), use.limit, use.day);
    if (use.remaining() < at_least) {
        spdlog::warn("{}: the daily call budget will run out before the phase ends: it stops (quota) and "
                     "'pipeline run {} --resume' goes on when the budget allows",
                     m_phase, m_phase);
    }
}

void PhaseRun::report_progress(bool force) {
    const steady_clock::time_point now = steady_clock::now();
    const bool write_ledger = force || now - m_last_progress >= k_progress_interval;
    const bool notify = m_env.on_progress && (write_ledger || now - m_last_notify >= k_notify_interval);
    if (!write_ledger && !notify) {
        return;
    }
    const Progress p = progress();
    if (write_ledger) {
        m_last_progress = now;
        const ScopedTimer timer(m_bookkeeping);
        m_record.progress(p, m_cp.upstream_run_id);
    }
    m_record.set_progress(p);
    if (notify) {
        m_last_notify = now;
        m_env.on_progress(m_record.entry());
    }
}

void PhaseRun::publish_manifest() {
    if (!m_cp.rejects.empty()) {
        m_sink->put(prefix() + std::string(k_rejects_name), rejects_to_jsonl(m_cp.rejects));
    }
    Manifest m;
    m.phase = m_phase;
    m.date = m_date;
    m.run_id = m_cp.run_id;
    m.state = m_cp.state;
    m.stop_reason = m_stop_reason;
    m.records = m_cp.records;
    m.chunks = m_cp.chunks;
    m.rejected = m_cp.rejects.size();
    m.reused = progress().reused;
    m.started_at = m_cp.started_at;
    m.finished_at = format_utc(now_utc());
    m.upstream_phase = m_def.upstream;
    m.upstream_run_id = m_cp.upstream_run_id;
    // A COMPLETED run also becomes the date's _current.json, right after its manifest (docs/contract.md §6).
    core::publish_manifest(*m_sink, m);
}

// A run that completed with too many refusals is a failure: the API is saying something is wrong.
void PhaseRun::apply_reject_policy(RunState& state, std::optional<std::string>& error) const {
    if (state != RunState::Completed || item_count() == 0) {
        return;
    }
    const double share = static_cast<double>(m_cp.rejects.size()) / static_cast<double>(item_count());
    if (share > m_config.api.max_reject_share) {
        state = RunState::Failed;
        error = std::to_string(m_cp.rejects.size()) + " of " + std::to_string(item_count()) +
                " items were refused by the API, more than api.max_reject_share (" +
                std::to_string(static_cast<int>(m_config.api.max_reject_share * 100)) + "%); see " +
                m_sink->describe() + "/" + prefix() + std::string(k_rejects_name);
    }
}

// At the end a checkpoint that cannot be written is logged, not thrown: the ledger still records the end.
void PhaseRun::save_final_checkpoint() {
    try {
        save_checkpoint(m_env.run_dir, m_cp);
    } catch (const std::exception& e) {
        spdlog::error("{}: {}", m_phase, e.what());
    }
}

// The ledger is the last word on how the run ended. When it cannot be written (disk full), the run is
// FAILED, and a second, smaller write tries to leave that error where `status` can show it.
void PhaseRun::record_end(RunState& state, std::optional<std::string>& error) {
    try {
        m_record.finish(state, progress(), error, m_stop_reason);
        return;
    } catch (const std::exception& e) {
        state = RunState::Failed;
        error = (error ? *error + "; " : std::string()) + "could not record the end of the run: " + e.what();
    }
    try {
        m_record.finish(state, progress(), error, m_stop_reason);
    } catch (const std::exception& e) {
        spdlog::error("{}: {}", m_phase, e.what());
    }
}

PhaseOutcome PhaseRun::finish(RunState state, std::optional<std::string> error) {
    apply_reject_policy(state, error);
    if (state == RunState::Stopped) {
        m_stop_reason = m_stop.reason() == StopReason::None ? StopReason::Operator : m_stop.reason();
    }
    m_cp.state = state;
    m_cp.error = error;
    m_cp.counters = progress();
    if (m_writer) {
        try {
            publish_manifest();
        } catch (const std::exception& e) {
            m_cp.state = state = RunState::Failed;
            m_cp.error = error = error ? *error + "; " + e.what() : e.what();
        }
    }
    save_final_checkpoint();
    record_end(state, error);
    if (state != m_cp.state) { // the ledger could not take the end: the checkpoint says FAILED too
        m_cp.state = state;
        m_cp.error = error;
        save_final_checkpoint();
    }
    m_watch.reset();
    if (m_env.on_progress) {
        m_env.on_progress(m_record.entry());
    }
    const Progress p = progress();
    const double seconds = duration<double>(steady_clock::now() - m_started).count();
    const auto level = state == RunState::Failed ? spdlog::level::err : spdlog::level::info;
    const std::string reason =
        state == RunState::Stopped ? " (" + std::string(stop_reason_key(m_stop_reason)) + ")" : std::string();
    spdlog::log(level, "{}: run {} {}{} in {:.1f}s: {} items, {} records, {} chunks, {} requests, {} retries, {} "
                "rejected, {} empty, {} reused{}{}",
                m_phase, m_cp.run_id, state_name(state), reason, seconds, p.items_done, p.records,
                p.chunks, p.requests, p.retries, p.rejected, p.empty, p.reused, error ? ": " : "",
                error.value_or(""));
    // What committing costs, for scripts/bench/scale.sh: checkpoint and ledger writes on the writer thread.
    const double wall = duration<double>(m_bookkeeping.wall).count();
    spdlog::debug("{}: bookkeeping over {} chunk commits: {:.3f}s wall ({:.2f}% of the run), {:.3f}s CPU",
                  m_phase, m_commits, wall, seconds > 0 ? 100 * wall / seconds : 0.0,
                  duration<double>(m_bookkeeping.cpu).count());
    return PhaseOutcome{m_phase, state, m_cp.run_id, error.value_or("")};
}

} // namespace

std::string new_run_id() {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    const sys_seconds now = floor<seconds>(system_clock::now());
    const year_month_day ymd{floor<days>(now)};
    const hh_mm_ss<seconds> hms{now - floor<days>(now)};
    char text[40];
    std::snprintf(text, sizeof text, "%04d%02u%02uT%02ld%02ld%02ldZ-%06llx", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()), static_cast<unsigned long long>(random() & 0xffffff));
    return text;
}

PhaseOutcome run_phase(const PhaseEnvironment& env, const PhaseDef& def, const std::string& date, bool resume,
                       StopFlag& stop) {
    PhaseRun run(env, def, date, stop);
    run.begin(resume); // a usage error (nothing to resume) propagates before anything is recorded
    RunState state = RunState::Completed;
    std::optional<std::string> error;
    try {
        run.open_upstream();
        const FetchEnd end = run.fetch_and_write();
        run.commit_chunk();
        state = end == FetchEnd::Stopped ? RunState::Stopped : RunState::Completed;
    } catch (const std::exception& e) {
        state = RunState::Failed;
        error = e.what();
        // What was fetched before the failure is complete: publish it so that --resume keeps it.
        try {
            run.commit_chunk();
        } catch (const std::exception& again) {
            spdlog::debug("{}: final chunk not committed: {}", def.name, again.what());
        }
    }
    return run.finish(state, error);
}

} // namespace pipeline::core
