#include "cli/run.hpp"
#include "commit.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-commit", virtsnap::commit::run_commit);
}
