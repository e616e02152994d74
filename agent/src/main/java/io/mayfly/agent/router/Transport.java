package io.mayfly.agent.router;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * Linux epoll when its native library loads (fewer copies and syscalls than NIO), NIO otherwise.
 * {@code -Dmayfly.router.transport=nio} forces NIO, to compare the two.
 */
enum Transport {
    EPOLL,
    NIO;

    static Transport best() {
        if ("nio".equalsIgnoreCase(System.getProperty("mayfly.router.transport"))) {
            return NIO;
        }
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    IoHandlerFactory ioHandlers() {
        return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** SO_REUSEPORT for this transport's listening socket. */
    ChannelOption<Boolean> reusePort() {
        return this == EPOLL
                ? io.netty.channel.epoll.EpollChannelOption.SO_REUSEPORT
                : io.netty.channel.socket.nio.NioChannelOption.of(java.net.StandardSocketOptions.SO_REUSEPORT);
    }

    Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    Class<? extends Channel> clientChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
