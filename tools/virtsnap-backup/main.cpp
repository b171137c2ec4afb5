#include "backup.hpp"
#include "cli/run.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-backup", virtsnap::backup::run_backup);
}
