package io.mayfly.agent.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Where a console chunk ends when more of the log follows ({@link ConsoleShipper#cut}). */
class ConsoleShipperTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theLastChunkOfALogGoesWhole() {
        byte[] bytes = utf8("one\ntwo, unfinished");
        assertThat(ConsoleShipper.cut(bytes, bytes.length, false)).isEqualTo(bytes.length);
    }

    @Test
    void aChunkWithMoreToFollowEndsAfterItsLastLine() {
        byte[] bytes = utf8("one\ntwo\nthr");
        assertThat(ConsoleShipper.cut(bytes, bytes.length, true)).isEqualTo("one\ntwo\n".length());
    }

    @Test
    void aLineLongerThanAChunkIsCutOutsideACharacter() {
        String text = "abcé€x"; // é: 2 bytes, €: 3 bytes
        byte[] bytes = utf8(text);
        int beforeEuro = utf8("abcé").length;
        assertThat(ConsoleShipper.cut(bytes, beforeEuro + 2, true))
                .as("inside €")
                .isEqualTo(beforeEuro);
        assertThat(ConsoleShipper.cut(bytes, beforeEuro + 1, true))
                .as("after €'s lead byte")
                .isEqualTo(beforeEuro);
        assertThat(ConsoleShipper.cut(bytes, 3, true))
                .as("after an ASCII character")
                .isEqualTo(3);
        for (int read = 1; read < bytes.length; read++) {
            int cut = ConsoleShipper.cut(bytes, read, true);
            assertThat(cut).as("read %d", read).isBetween(1, read);
            String sent = new String(bytes, 0, cut, StandardCharsets.UTF_8);
            assertThat(text).as("read %d: whole characters only", read).startsWith(sent);
        }
    }

    @Test
    void aChunkThatIsAllOneCutCharacterGoesAsRead() {
        byte[] bytes = utf8("€");
        assertThat(ConsoleShipper.cut(bytes, 2, true))
                .as("nothing shorter to send")
                .isEqualTo(2);
    }
}
