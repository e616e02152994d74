package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code /proc/PID/stat} says about a process: its state letter and its start time in clock ticks since
 * boot (field 22). A pid plus its start ticks names one process for good, even after the pid is reused.
 */
public record ProcessStat(long pid, char state, long startTicks) {

    /** Empty when no process has this pid. */
    public static Optional<ProcessStat> read(long pid) {
        String text;
        try {
            text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(parse(pid, text));
    }

    static ProcessStat parse(long pid, String text) {
        // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
        String[] fields = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
        return new ProcessStat(pid, fields[0].charAt(0), Long.parseLong(fields[22 - 3]));
    }

    /** A zombie has exited and only waits for its parent to read its exit status. */
    public boolean exited() {
        return state == 'Z' || state == 'X';
    }

    /** Whether {@code pid} is still the running process that started at {@code startTicks}. */
    public static boolean running(long pid, long startTicks) {
        return read(pid)
                .filter(s -> !s.exited() && s.startTicks() == startTicks)
                .isPresent();
    }

    /**
     * Resident memory of a process and all its descendants, in bytes ({@code /proc/PID/statm}, field 2, times the
     * page size): a sandboxed instance is bwrap plus the app under it, a VM is one QEMU process. 0 when gone.
     */
    public static long residentBytes(long pid) {
        return ProcessHandle.of(pid)
                .map(p -> java.util.stream.Stream.concat(java.util.stream.Stream.of(p), p.descendants())
                                .mapToLong(h -> residentPages(h.pid()))
                                .sum()
                        * PAGE)
                .orElse(0L);
    }

    private static final long PAGE = 4096;

    private static long residentPages(long pid) {
        try {
            String[] fields = Files.readString(Path.of("/proc", Long.toString(pid), "statm"))
                    .trim()
                    .split(" ");
            return Long.parseLong(fields[1]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
