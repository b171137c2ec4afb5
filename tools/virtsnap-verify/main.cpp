#include "cli/run.hpp"
#include "verify.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-verify", virtsnap::verify_tool::run_verify);
}
