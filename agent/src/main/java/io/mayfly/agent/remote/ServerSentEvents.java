package io.mayfly.agent.remote;

/**
 * Reads a server-sent event stream one line at a time and keeps the data of one kind of event: the server's
 * desired-state stream also carries comments and keep-alives, which are not states.
 */
final class ServerSentEvents {
    private final String kept;
    private String event;
    private final StringBuilder data = new StringBuilder();

    /** @param kept the name of the events whose data to keep ({@code event: <kept>}) */
    ServerSentEvents(String kept) {
        this.kept = kept;
    }

    /** The data of the event this line ends (a blank line ends one), if it is a kept event with data; else null. */
    String line(String line) {
        if (line.isEmpty()) {
            String ended = kept.equals(event) && !data.isEmpty() ? data.toString() : null;
            event = null;
            data.setLength(0);
            return ended;
        }
        if (line.startsWith("event:")) {
            event = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
            data.append(line.substring(5).trim());
        }
        return null;
    }
}
