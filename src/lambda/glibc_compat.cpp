// Built only for the Lambda package (DINEX_LAMBDA_GLIBC_234). Debian 12's static libstdc++ and
// libgcc_eh reference two glibc functions newer than Amazon Linux 2023's glibc 2.34:
//  - arc4random (2.36), from std::random_device: here over getrandom(2) (glibc 2.25);
//  - _dl_find_object (2.35), from the exception unwinder: here over dl_iterate_phdr (2.2.5).
// Definitions in the executable satisfy those references at link time, so bootstrap needs no
// symbol newer than GLIBC_2.34 (scripts/package-lambda checks it with objdump -T).
#include <dlfcn.h>
#include <link.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

extern "C" __attribute__((visibility("default"))) std::uint32_t arc4random(void) {
    std::uint32_t value = 0;
    for (;;) {
        const ssize_t n = getrandom(&value, sizeof value, 0);
        if (n == static_cast<ssize_t>(sizeof value)) return value;
        if (n < 0 && errno != EINTR) std::abort();
    }
}

namespace {

struct find_state {
    std::uintptr_t pc;
    dl_find_object* out;
    bool found;
};

int find_in_object(dl_phdr_info* info, std::size_t, void* data) {
    auto* st = static_cast<find_state*>(data);
    std::uintptr_t low = UINTPTR_MAX;
    std::uintptr_t high = 0;
    bool contains = false;
    const ElfW(Phdr)* eh = nullptr;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_LOAD) {
            const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
            const std::uintptr_t end = start + ph.p_memsz;
            if (start < low) low = start;
            if (end > high) high = end;
            if (st->pc >= start && st->pc < end) contains = true;
        } else if (ph.p_type == PT_GNU_EH_FRAME) {
            eh = &ph;
        }
    }
    if (!contains) return 0;
    *st->out = dl_find_object{};
    st->out->dlfo_map_start = reinterpret_cast<void*>(low);
    st->out->dlfo_map_end = reinterpret_cast<void*>(high);
    st->out->dlfo_eh_frame = eh ? reinterpret_cast<void*>(info->dlpi_addr + eh->p_vaddr) : nullptr;
    st->found = true;
    return 1;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int _dl_find_object(void* address,
                                                                      dl_find_object* result) noexcept {
    find_state st{reinterpret_cast<std::uintptr_t>(address), result, false};
    dl_iterate_phdr(find_in_object, &st);
    return st.found ? 0 : -1;
}
