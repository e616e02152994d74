package io.mayfly.sandbox;

import io.mayfly.wire.Human;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One sandbox's control group, with a memory and a process limit, on cgroup v2 (one hierarchy, {@code memory.max} and
 * {@code pids.max}) or v1 (the {@code memory} and {@code pids} hierarchies, {@code memory.limit_in_bytes} and
 * {@code pids.max}). Groups live under {@code mayfly/} in each hierarchy. The sandbox's first process joins it by
 * writing its pid to {@link #procs()} before it execs, so nothing runs outside the limits; afterwards {@link #limitHit()}
 * says whether the sandbox ran into one.
 */
public final class Cgroup {
    private final List<Path> dirs;
    private final boolean v2;
    private final long memoryBytes;
    private final long processes;

    private Cgroup(List<Path> dirs, boolean v2, long memoryBytes, long processes) {
        this.dirs = dirs;
        this.v2 = v2;
        this.memoryBytes = memoryBytes;
        this.processes = processes;
    }

    /**
     * Creates the group {@code id} under {@code root} (normally /sys/fs/cgroup) with the given limits (0: none), or
     * returns empty and adds a warning saying why not: no such controllers, or no permission.
     */
    public static Optional<Cgroup> create(
            Path root, String id, long memoryBytes, long processes, List<String> warnings) {
        if (memoryBytes <= 0 && processes <= 0) return Optional.empty();
        try {
            Path controllers = root.resolve("cgroup.controllers");
            if (Files.isRegularFile(controllers)) {
                List<String> have = List.of(Files.readString(controllers).trim().split("\\s+"));
                List<String> want = new ArrayList<>();
                if (memoryBytes > 0) want.add("memory");
                if (processes > 0) want.add("pids");
                if (!have.containsAll(want)) {
                    warnings.add("cgroup v2 at " + root + " lacks the " + String.join(" and ", want)
                            + " controller (it has: " + have + ")");
                    return Optional.empty();
                }
                String enable = String.join(" ", want.stream().map(c -> "+" + c).toList());
                Path parent = root.resolve("mayfly");
                Files.createDirectories(parent);
                Files.writeString(root.resolve("cgroup.subtree_control"), enable);
                Files.writeString(parent.resolve("cgroup.subtree_control"), enable);
                Path dir = parent.resolve(id);
                Files.createDirectories(dir);
                if (memoryBytes > 0) {
                    Files.writeString(dir.resolve("memory.max"), Long.toString(memoryBytes));
                    writeIfExists(dir.resolve("memory.swap.max"), "0");
                }
                if (processes > 0) Files.writeString(dir.resolve("pids.max"), Long.toString(processes));
                return Optional.of(new Cgroup(List.of(dir), true, memoryBytes, processes));
            }
            List<Path> dirs = new ArrayList<>();
            if (memoryBytes > 0) {
                Path dir = v1Group(root, "memory", id, warnings);
                if (dir == null) return Optional.empty();
                dirs.add(dir);
                Files.writeString(dir.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
                // Without swap accounting the file is missing, and the limit then covers RAM only.
                writeIfExists(dir.resolve("memory.memsw.limit_in_bytes"), Long.toString(memoryBytes));
            }
            if (processes > 0) {
                Path dir = v1Group(root, "pids", id, warnings);
                if (dir == null) {
                    dirs.forEach(Cgroup::rmdir);
                    return Optional.empty();
                }
                dirs.add(dir);
                Files.writeString(dir.resolve("pids.max"), Long.toString(processes));
            }
            return Optional.of(new Cgroup(List.copyOf(dirs), false, memoryBytes, processes));
        } catch (IOException | RuntimeException e) {
            warnings.add("cannot set up a control group under " + root + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private static Path v1Group(Path root, String controller, String id, List<String> warnings) throws IOException {
        Path hierarchy = root.resolve(controller);
        if (!Files.isRegularFile(hierarchy.resolve("cgroup.procs"))) {
            warnings.add("no " + controller + " controller under " + root + " (neither cgroup v2 nor a v1 " + controller
                    + " hierarchy)");
            return null;
        }
        Path dir = hierarchy.resolve("mayfly").resolve(id);
        Files.createDirectories(dir);
        return dir;
    }

    private static void writeIfExists(Path file, String value) {
        if (!Files.exists(file)) return;
        try {
            Files.writeString(file, value);
        } catch (IOException ignored) {
            // optional: a kernel without swap accounting refuses it
        }
    }

    /** The files the sandbox's first process writes its pid to, to join every hierarchy of this group. */
    public List<Path> procs() {
        return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    /** Which limit the sandbox ran into, said for its owner, or empty. */
    public Optional<String> limitHit() {
        List<String> hit = new ArrayList<>();
        if (memoryBytes > 0 && counter(v2 ? "memory.events" : "memory.oom_control", "oom_kill") > 0) {
            hit.add("it ran out of memory (limit " + Human.size(memoryBytes) + ") and the kernel killed a process");
        }
        if (processes > 0 && counter("pids.events", "max") > 0) {
            hit.add("it reached the limit of " + processes + " processes (fork failed)");
        }
        return hit.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", hit));
    }

    /** Reads a counter from the {@code key value} lines of a group's file; 0 when absent. */
    private long counter(String file, String key) {
        for (Path dir : dirs) {
            Path p = dir.resolve(file);
            if (!Files.isRegularFile(p)) continue;
            try {
                for (String line : Files.readAllLines(p)) {
                    String[] parts = line.trim().split("\\s+");
                    if (parts.length == 2 && parts[0].equals(key)) return Long.parseLong(parts[1]);
                }
            } catch (IOException | NumberFormatException ignored) {
                // unreadable counter: nothing known
            }
        }
        return 0;
    }

    /** Removes the group once its processes are gone (a populated group refuses, and is tried again by the next call). */
    public void remove() {
        dirs.forEach(Cgroup::rmdir);
    }

    /** The group's directory in each hierarchy. */
    List<Path> dirs() {
        return dirs;
    }

    static void rmdir(Path dir) {
        try {
            // rmdir, not a recursive delete: a cgroup's files go away with its directory.
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // still populated, or not ours: it does no harm, and the next sandbox gets a new id
        }
    }

    @Override
    public String toString() {
        return "cgroup " + (v2 ? "v2 " : "v1 ") + dirs;
    }
}
