package io.mayfly.sandbox;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The seccomp filter every sandbox runs under, as the classic BPF program bubblewrap loads with {@code --seccomp FD}
 * (the format libseccomp's {@code seccomp_export_bpf} writes). It refuses, with EPERM, the system calls a build or a
 * unikernel never needs and that widen the kernel's attack surface: mounts, new namespaces, ptrace and cross-process
 * memory access, kernel modules and kexec, BPF, keyrings, io_uring, perf events, clock and host-name changes. Like
 * Docker's default profile it answers {@code clone3} with ENOSYS (so that the C library falls back to {@code clone},
 * whose namespace flags can be checked) and refuses other ABIs (i386, x32) on x86-64.
 *
 * <p>Only x86-64 is described; {@link #forThisMachine()} says so on any other architecture.
 */
public final class SeccompFilter {
    /** System call numbers on x86-64 (arch/x86/entry/syscalls/syscall_64.tbl). */
    static final Map<String, Integer> REFUSED = new TreeMap<>(Map.ofEntries(
            Map.entry("ptrace", 101),
            Map.entry("syslog", 103),
            Map.entry("uselib", 134),
            Map.entry("vhangup", 153),
            Map.entry("pivot_root", 155),
            Map.entry("adjtimex", 159),
            Map.entry("chroot", 161),
            Map.entry("acct", 163),
            Map.entry("settimeofday", 164),
            Map.entry("mount", 165),
            Map.entry("umount2", 166),
            Map.entry("swapon", 167),
            Map.entry("swapoff", 168),
            Map.entry("reboot", 169),
            Map.entry("sethostname", 170),
            Map.entry("setdomainname", 171),
            Map.entry("iopl", 172),
            Map.entry("ioperm", 173),
            Map.entry("create_module", 174),
            Map.entry("init_module", 175),
            Map.entry("delete_module", 176),
            Map.entry("get_kernel_syms", 177),
            Map.entry("query_module", 178),
            Map.entry("quotactl", 179),
            Map.entry("nfsservctl", 180),
            Map.entry("lookup_dcookie", 212),
            Map.entry("clock_settime", 227),
            Map.entry("kexec_load", 246),
            Map.entry("add_key", 248),
            Map.entry("request_key", 249),
            Map.entry("keyctl", 250),
            Map.entry("unshare", 272),
            Map.entry("perf_event_open", 298),
            Map.entry("name_to_handle_at", 303),
            Map.entry("open_by_handle_at", 304),
            Map.entry("clock_adjtime", 305),
            Map.entry("setns", 308),
            Map.entry("process_vm_readv", 310),
            Map.entry("process_vm_writev", 311),
            Map.entry("finit_module", 313),
            Map.entry("kexec_file_load", 320),
            Map.entry("bpf", 321),
            Map.entry("userfaultfd", 323),
            Map.entry("io_uring_setup", 425),
            Map.entry("io_uring_enter", 426),
            Map.entry("io_uring_register", 427),
            Map.entry("open_tree", 428),
            Map.entry("move_mount", 429),
            Map.entry("fsopen", 430),
            Map.entry("fsconfig", 431),
            Map.entry("fsmount", 432),
            Map.entry("fspick", 433),
            Map.entry("mount_setattr", 442)));

    static final int CLONE = 56;
    static final int CLONE3 = 435;
    /** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: clone may not make namespaces. */
    static final int CLONE_NAMESPACES =
            0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    private static final int X32_SYSCALL_BIT = 0x40000000;
    private static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    // Classic BPF opcodes (linux/filter.h).
    private static final int LD_W_ABS = 0x20;
    private static final int JEQ_K = 0x15;
    private static final int JGE_K = 0x35;
    private static final int JSET_K = 0x45;
    private static final int RET_K = 0x06;
    /** Offsets in struct seccomp_data: nr, arch, then args[0] (its low 32 bits on a little-endian machine). */
    private static final int NR = 0, ARCH = 4, ARG0_LOW = 16;

    private SeccompFilter() {}

    /** The program for this machine, or null (with no filter applied) when its architecture is not described here. */
    public static byte[] forThisMachine() {
        String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) || "x86_64".equals(arch) ? x86_64() : null;
    }

    static byte[] x86_64() {
        Program p = new Program();
        p.load(ARCH);
        p.jumpIf(JEQ_K, AUDIT_ARCH_X86_64, null, "nosys");
        p.load(NR);
        p.jumpIf(JGE_K, X32_SYSCALL_BIT, "nosys", null);
        for (int nr : REFUSED.values()) p.jumpIf(JEQ_K, nr, "eperm", null);
        p.jumpIf(JEQ_K, CLONE3, "nosys", null);
        p.jumpIf(JEQ_K, CLONE, "clone", null);
        p.ret(RET_ALLOW);
        p.label("clone");
        p.load(ARG0_LOW);
        p.jumpIf(JSET_K, CLONE_NAMESPACES, "eperm", null);
        p.ret(RET_ALLOW);
        p.label("eperm");
        p.ret(RET_ERRNO | EPERM);
        p.label("nosys");
        p.ret(RET_ERRNO | ENOSYS);
        return p.assemble();
    }

    /** A tiny assembler: instructions with forward jumps to labels, resolved into BPF's relative offsets. */
    private static final class Program {
        private record Insn(int code, int k, String whenTrue, String whenFalse) {}

        private final List<Insn> insns = new ArrayList<>();
        private final Map<String, Integer> labels = new TreeMap<>();

        void load(int offset) {
            insns.add(new Insn(LD_W_ABS, offset, null, null));
        }

        /** A conditional jump; a null target means the next instruction. */
        void jumpIf(int code, int k, String whenTrue, String whenFalse) {
            insns.add(new Insn(code, k, whenTrue, whenFalse));
        }

        void ret(int value) {
            insns.add(new Insn(RET_K, value, null, null));
        }

        void label(String name) {
            labels.put(name, insns.size());
        }

        byte[] assemble() {
            ByteArrayOutputStream out = new ByteArrayOutputStream(insns.size() * 8);
            for (int i = 0; i < insns.size(); i++) {
                Insn insn = insns.get(i);
                int code = insn.code();
                int jt = offset(i, insn.whenTrue()), jf = offset(i, insn.whenFalse());
                // struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }, little-endian
                out.write(code & 0xff);
                out.write(code >>> 8);
                out.write(jt);
                out.write(jf);
                for (int shift = 0; shift < 32; shift += 8) out.write(insn.k() >>> shift & 0xff);
            }
            return out.toByteArray();
        }

        private int offset(int at, String label) {
            if (label == null) return 0;
            int target = labels.get(label);
            int offset = target - at - 1;
            if (offset < 0 || offset > 255)
                throw new IllegalStateException("jump to " + label + " out of range: " + offset);
            return offset;
        }
    }
}
