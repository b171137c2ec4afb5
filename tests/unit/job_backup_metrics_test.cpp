// The metrics file is read by Prometheus' parser: every sample must have its
// HELP and TYPE, a domain name from outside must stay one label value, and
// a failed run must report its status without inventing a set.

#include "job/backup_metrics.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace virtsnap;

TEST_CASE("metrics label values: escaped as the text format wants, and always UTF-8") {
    CHECK(job::metrics_label_value("vm1") == "vm1");
    CHECK(job::metrics_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
    CHECK(job::metrics_label_value("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(job::metrics_label_value("bad\xff") == "bad\xef\xbf\xbd");
}

TEST_CASE("metrics: a success and a failure, each metric introduced once") {
    test::TempDir dest;
    job::DomainRun ok;
    ok.domain = "web";
    ok.set = job::SetSummary{};
    ok.set->domain = "web";
    ok.set->bytes_read = 1000;
    ok.set->bytes_written = 2000;
    ok.set->quiesced = true;
    ok.set->freeze_ms = 42;
    ok.set->verified = true;
    ok.duration = std::chrono::milliseconds(1500);
    ok.ended = 1796040000;
    job::DomainRun failed;
    failed.domain = "db\"1";
    failed.exit_status = 5;
    failed.duration = std::chrono::milliseconds(20);
    failed.ended = 1796040001;

    const std::string text = job::render_metrics({ok, failed}, dest.path().string(), 1796040002);
    CHECK(text.find("# TYPE virtsnap_backup_last_run_exit_status gauge\n"
                    "virtsnap_backup_last_run_exit_status{domain=\"web\"} 0\n"
                    "virtsnap_backup_last_run_exit_status{domain=\"db\\\"1\"} 5\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_duration_seconds{domain=\"web\"} 1.5\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_read_bytes{domain=\"web\"} 1000\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_read_bytes{domain=\"db\\\"1\"} 0\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_freeze_seconds{domain=\"web\"} 0.042\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_info{domain=\"web\",type=\"full\",consistency=\"quiesced\","
                    "verification=\"qemu-checksums\"} 1\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_run_info{domain=\"db") == std::string::npos);
    // Nothing under DEST: no sets, no last success.
    CHECK(text.find("virtsnap_backup_complete_sets{domain=\"web\"} 0\n") != std::string::npos);
    CHECK(text.find("virtsnap_backup_last_success_timestamp_seconds") == std::string::npos);
    std::size_t helps = 0;
    for (std::size_t at = text.find("# HELP "); at != std::string::npos; at = text.find("# HELP ", at + 1))
        ++helps;
    CHECK(helps == 10);
}

TEST_CASE("an incremental set is reported as type inc") {
    test::TempDir dest;
    job::DomainRun run;
    run.domain = "web";
    run.set = job::SetSummary{};
    run.set->level = job::Level::inc;
    run.set->verified = true;
    run.set->verification = job::Verification::source;
    const std::string text = job::render_metrics({run}, dest.path().string(), 1796040002);
    CHECK(text.find("virtsnap_backup_last_run_info{domain=\"web\",type=\"inc\",consistency=\"crash\","
                    "verification=\"source\"} 1\n") != std::string::npos);
}
