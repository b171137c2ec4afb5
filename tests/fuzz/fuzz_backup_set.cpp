// store::list_domain_sets and store::read_set: a backup set is read back
// years later from storage anyone may have written to. The input is the
// set's manifest.xml, written into one set (with its completion marker)
// under a private directory made once per run, beside an incomplete set.
// A listing never throws for a damaged manifest (it names the problem);
// read_set refuses with an InputError; both must agree.

#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace store = virtsnap::store;

namespace {

constexpr const char* set_id = "20261122-031500-000-1a2b";

void write_file(const std::string& path, const char* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(size));
    if (!out.flush())
        std::abort();
}

// DIR/vm/SET_ID (complete, its manifest the input) and DIR/vm/OTHER_ID
// (incomplete). Left for run-fuzzer.sh to remove with its TMPDIR: libFuzzer
// may end the process without running destructors.
std::string make_domain_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/virtsnap-fuzz-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (!::mkdtemp(name.data()))
        std::abort();
    const std::string domain_dir = std::string(name.data()) + "/vm";
    const std::string incomplete = domain_dir + "/20261121-031500-000-0a0b";
    for (const std::string& dir : {domain_dir, domain_dir + "/" + set_id, incomplete})
        if (::mkdir(dir.c_str(), 0700) != 0)
            std::abort();
    store::mark_complete(domain_dir + "/" + set_id, set_id);
    write_file(incomplete + "/" + store::set_manifest_file, "", 0);
    return domain_dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string domain_dir = make_domain_dir();
    const std::string set_dir = domain_dir + "/" + set_id;
    write_file(set_dir + "/" + store::set_manifest_file, reinterpret_cast<const char*>(data), size);

    const std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    if (sets.size() != 2 || sets[0].complete || !sets[1].complete || sets[1].id != set_id ||
        sets[1].manifest.has_value() == !sets[1].problem.empty())
        std::abort();
    try {
        const store::BackupSet set = store::read_set(set_dir);
        if (!sets[1].manifest || set.domain != sets[1].manifest->domain_name)
            std::abort();
    } catch (const virtsnap::util::InputError&) {}
    return 0;
}
