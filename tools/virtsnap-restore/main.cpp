#include "cli/run.hpp"
#include "restore.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-restore", virtsnap::restore::run_restore);
}
