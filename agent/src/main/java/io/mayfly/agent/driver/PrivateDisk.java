package io.mayfly.agent.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A disk image a guest may write to: its own copy in the instance directory, never the stored artifact, which is
 * content-addressed and shared by every instance of the release. The Solo5 driver attaches one as a unikernel's block
 * device, the Firecracker driver as the guest's root drive.
 */
public final class PrivateDisk {
    private PrivateDisk() {}

    /** Copies {@code image} to {@code DEVICE.img} in the instance directory, replacing an earlier copy, and returns the copy. */
    public static Path copy(Path image, String device, InstanceSpec spec) throws DriverException {
        Path copy = spec.stateDir().toAbsolutePath().resolve(device + ".img");
        try {
            Files.createDirectories(copy.getParent());
            Files.copy(image, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new DriverException(
                    "cannot copy " + image + " to " + copy + " as the block device '" + device + "' of " + spec.id()
                            + ": " + e.getMessage(),
                    e);
        }
        return copy;
    }

    /**
     * Deletes the copies {@link #copy} made in an instance directory, once its guest has ended: a new start of the
     * release gets fresh copies, so nothing would ever read these again. A failure is noted in the console log.
     */
    public static void discard(Path stateDir, Path logFile) {
        if (stateDir == null || !Files.isDirectory(stateDir)) return;
        try (var files = Files.list(stateDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".img"))
                    .toList()) Files.deleteIfExists(f);
        } catch (IOException e) {
            VmHost.note(logFile, "could not remove the private disk copies in " + stateDir + ": " + e.getMessage());
        }
    }
}
