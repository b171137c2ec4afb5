#include "verify/chain_checksums.hpp"

#include "verify/checksum_check.hpp"

namespace virtsnap::verify {

std::string chain_damage(const store::DiskChain& chain) {
    for (size_t k = 0; k < chain.sets.size(); ++k) {
        const xml::DiskBackup seen = chain.backup(k);
        for (size_t i = 0; i < chain.backups[k].files.size(); ++i) {
            const CheckOutcome outcome = check_checksums(chain.sets[k].path, seen, i, chain.virtual_size);
            if (!outcome.ok)
                return (k == 0 ? "" : "in its parent set " + chain.sets[k].id + ": ") + outcome.detail;
        }
    }
    return {};
}

} // namespace virtsnap::verify
