"""Names the analyzers share: allocators, free functions, and the kexec/kdump call paths."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from reviewtool import rx
from reviewtool.check.patterns import lazy

# Allocators that return NULL (or 0) when they fail.
POINTER_ALLOCATORS = frozenset({
    "kmalloc", "kzalloc", "kcalloc", "kmalloc_array", "kmalloc_node", "kzalloc_node", "kcalloc_node",
    "kmalloc_array_node", "krealloc", "krealloc_array", "kvmalloc", "kvzalloc", "kvcalloc",
    "kvmalloc_array", "kvmalloc_node", "kvzalloc_node", "kvrealloc", "kmemdup", "kmemdup_nul", "kstrdup",
    "kstrndup", "kasprintf", "vmalloc", "vzalloc", "vmalloc_node", "vzalloc_node", "vmalloc_user",
    "vmalloc_32", "__vmalloc", "alloc_pages", "alloc_page", "alloc_pages_node", "alloc_pages_exact",
    "folio_alloc", "get_zeroed_page", "__get_free_pages", "__get_free_page", "kimage_alloc_control_pages",
    "kmem_cache_alloc", "kmem_cache_zalloc", "kmem_cache_alloc_node", "memblock_alloc",
    "memblock_alloc_raw", "memblock_alloc_from", "memblock_alloc_low", "memblock_alloc_node",
    "memblock_alloc_try_nid", "memblock_alloc_try_nid_raw", "memblock_phys_alloc",
    "memblock_phys_alloc_range", "memblock_phys_alloc_try_nid", "dma_alloc_coherent",
    "devm_kzalloc", "devm_kmalloc", "devm_kcalloc",
})

# Allocators that return an error code (0 on success).
ERROR_ALLOCATORS = frozenset({
    "trans_pgd_create_copy", "trans_pgd_idmap_page", "trans_pgd_copy_el2_vectors", "trans_pgd_map_page",
})
_TRANS_PGD = rx.compile(r"^trans_pgd_\w+$")

# Managed allocations: freed by their owner, never by the error path of the caller.
OWNED_ALLOCATORS = frozenset({"kimage_alloc_control_pages", "devm_kzalloc", "devm_kmalloc", "devm_kcalloc"}
                             | {a for a in POINTER_ALLOCATORS if a.startswith("memblock_")})

FREE_FUNCTIONS = frozenset({
    "kfree", "kvfree", "vfree", "kfree_sensitive", "kzfree", "free_pages", "free_page", "__free_pages",
    "__free_page", "free_pages_exact", "put_page", "folio_put", "kmem_cache_free", "memblock_free",
    "memblock_phys_free", "dma_free_coherent", "kimage_free_pages",
})

# Calls that take a pointer without taking ownership of it.
NON_OWNING = frozenset({
    "memset", "memcpy", "memmove", "memcmp", "strcpy", "strscpy", "strlcpy", "strncpy", "strcat", "sprintf",
    "snprintf", "scnprintf", "sscanf", "page_address", "virt_to_phys", "__pa", "__pa_symbol", "page_to_virt",
    "page_to_phys", "page_to_pfn", "virt_to_page", "copy_page", "clear_page", "memzero_explicit",
    "copy_from_user", "copy_to_user", "printk", "kmemleak_ignore", "kmemleak_not_leak", "sizeof",
    "dcache_clean_inval_poc", "dcache_clean_poc", "icache_inval_pou", "caches_clean_inval_pou",
    "__flush_dcache_area", "flush_icache_range", "set_memory_valid", "strlen", "strcmp", "strncmp",
    "WARN_ON", "WARN_ON_ONCE", "BUG_ON", "IS_ERR", "PTR_ERR", "likely", "unlikely",
})
PRINT_RE = lazy(r"^(?:pr_\w+|dev_\w+|printk\w*|seq_printf|WARN\w*)$")

# Wrappers a condition may put around the value it tests.
CHECK_WRAPPERS = frozenset({"unlikely", "likely", "IS_ERR", "IS_ERR_OR_NULL", "WARN_ON", "WARN_ON_ONCE",
                            "BUG_ON", "IS_ERR_VALUE", "WARN", "KUNIT_ASSERT_NOT_NULL",
                            "KUNIT_ASSERT_NOT_ERR_OR_NULL", "KUNIT_EXPECT_NOT_NULL", "KUNIT_EXPECT_NOT_ERR_OR_NULL"})

# Calls that store a pointer (possibly NULL) without dereferencing it.
STORES = frozenset({"RCU_INIT_POINTER", "rcu_assign_pointer", "WRITE_ONCE", "smp_store_release", "xchg",
                    "cmpxchg", "try_cmpxchg", "set_bit", "kfree_const"})
# Calls that release what they are given (the caller's own free helpers included).
RELEASE_RE = lazy(r"^\w*(?:free|put|release|destroy|unref)\w*$")

NEVER_FAIL = frozenset({"mempool_alloc", "memblock_alloc_or_panic"})

# kexec: where a failure can still be reported to kexec_load (load time) ...
LOAD_TIME = frozenset({
    "machine_kexec_prepare", "machine_kexec_post_load", "arch_kexec_kernel_image_load",
    "arch_kimage_file_post_load_cleanup", "sys_kexec_load", "sys_kexec_file_load", "do_kexec_load",
    "kimage_alloc_init", "kimage_file_alloc_init", "kimage_load_segment", "kexec_load_purgatory",
    "image_load", "load_other_segments", "kexec_image_load", "kexec_file_load", "kimage_file_prepare_segments",
    "arch_kexec_apply_relocations_add", "arch_kexec_apply_relocations", "machine_kexec_file_load",
    "kexec_add_buffer", "arch_kexec_locate_mem_hole", "kexec_alloc_control_pages",
})
# ... and where it cannot: the reboot (or panic) has already started.
REBOOT_TIME = frozenset({
    "machine_kexec", "cpu_soft_restart", "__cpu_soft_restart", "kernel_kexec", "machine_shutdown",
    "machine_crash_shutdown", "__crash_kexec", "crash_kexec", "crash_smp_send_stop",
    "machine_kexec_mask_interrupts", "kexec_reboot", "arm64_relocate_new_kernel",
})

# kdump: code that runs after a panic, or prepares what the crash kernel relies on.
CRASH_FUNCTIONS = frozenset({
    "machine_crash_shutdown", "__crash_kexec", "crash_kexec", "crash_smp_send_stop", "smp_send_crash_stop",
    "crash_save_cpu", "ipi_cpu_crash_stop", "arch_crash_save_vmcoreinfo", "crash_save_vmcoreinfo",
    "crash_save_vmcoreinfo_init", "crash_prepare_elf64_headers", "load_crashdump_segments",
    "arch_kexec_protect_crashkres", "arch_kexec_unprotect_crashkres", "crash_post_resume",
    "crash_prepare_suspend", "elfcorehdr_read", "elfcorehdr_alloc", "elfcorehdr_free", "copy_oldmem_page",
    "reserve_crashkernel", "reserve_crashkernel_low", "crash_exclude_mem_range", "prepare_elf_headers",
    "crash_shrink_memory", "crash_kexec_post_notifiers", "panic_smp_self_stop",
})
CRASH_FILES = rx.compile(r"^(?:kernel/crash_\w+\.c|kernel/vmcore_info\.c|fs/proc/vmcore\.c|"
                         r"arch/[^/]+/kernel/crash(?:_dump|_core)?\w*\.c)$")
CRASH_WORDS = rx.compile(r"\b(?:KEXEC_TYPE_CRASH|kexec_crash_image|in_kexec_crash|crashk_res|crashk_low_res|"
                         r"elfcorehdr\w*|kexec_crash_loaded|crash_kexec_post_notifiers)\b")


def allocator_kind(name: str, wrappers: frozenset[str] = frozenset()) -> str | None:
    """'pointer' (NULL on failure), 'error' (returns an error code) or None."""
    if name in POINTER_ALLOCATORS or name in wrappers:
        return "pointer"
    if name in ERROR_ALLOCATORS or _TRANS_PGD.match(name):
        return "error"
    return None


_CALL = rx.compile(r"\b([A-Za-z_]\w*)\s*\(")


def first_call(text: str, wanted: Collection[str] | Callable[[str], bool]) -> re.Match[str] | None:
    """The first `name(` in the text whose name is wanted (a set of names, or a test); group 1 is the name.

    The same match as a regex `\\b(name1|name2|...)\\s*\\(` of all the wanted names would
    give (a name is a whole identifier there too), without compiling such a regex.
    """
    test = wanted if callable(wanted) else wanted.__contains__
    for m in _CALL.finditer(text):
        if test(m.group(1)):
            return m
    return None


def is_allocator(name: str) -> bool:
    """True for an allocator of either kind, `trans_pgd_*()` included."""
    return name in POINTER_ALLOCATORS or name in ERROR_ALLOCATORS or (
        name.startswith("trans_pgd_") and len(name) > len("trans_pgd_"))
