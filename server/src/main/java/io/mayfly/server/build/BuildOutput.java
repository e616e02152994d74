package io.mayfly.server.build;

/** Where build output goes: one line at a time, as soon as it is produced. */
@FunctionalInterface
public interface BuildOutput {
    void line(String line);
}
