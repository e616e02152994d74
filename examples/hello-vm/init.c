/*
 * /init of the hello-vm initramfs: the whole "operating system" of a VM that serves examples/hello.
 * Mounts /proc, /sys and /dev, loads the virtio network drivers (Debian's kernel has virtio_net as a module),
 * gives eth0 the address QEMU's user-mode network expects (10.0.2.15/24, gateway 10.0.2.2), then becomes the
 * HTTP server on port 8080, passing on the arguments the kernel gave init (the words of [run] args that are not
 * kernel parameters). If the server exits, the kernel panics and QEMU (-no-reboot) exits with it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *modules[] = {"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
                                "virtio_mmio", "failover", "net_failover", "virtio_net"};

static void load(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/modules/%s.ko", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { printf("init: no module %s\n", path); return; }
    if (syscall(SYS_finit_module, fd, "", 0) != 0) perror(name);
    close(fd);
}

static void set_addr(int s, unsigned long req, const char *ifname, const char *ip) {
    struct ifreq ifr = {0};
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    if (ioctl(s, req, &ifr) < 0) perror("ioctl addr");
}

static int up(int s, const char *ifname) {
    struct ifreq ifr = {0};
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

int main(int argc, char **argv) {
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    for (unsigned i = 0; i < sizeof modules / sizeof *modules; i++) load(modules[i]);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    up(s, "lo");
    for (int tries = 0; up(s, "eth0") < 0 && tries < 200; tries++) usleep(10000);
    set_addr(s, SIOCSIFADDR, "eth0", "10.0.2.15");
    set_addr(s, SIOCSIFNETMASK, "eth0", "255.255.255.0");
    struct rtentry route = {0};
    ((struct sockaddr_in *)&route.rt_gateway)->sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.2.2", &((struct sockaddr_in *)&route.rt_gateway)->sin_addr);
    ((struct sockaddr_in *)&route.rt_dst)->sin_family = AF_INET;
    ((struct sockaddr_in *)&route.rt_genmask)->sin_family = AF_INET;
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(s, SIOCADDRT, &route) < 0) perror("route");
    close(s);
    printf("init: eth0 is 10.0.2.15; starting hello on :8080\n");
    fflush(stdout);
    char *args[64] = {"/hello", "--port", "8080"};
    int n = 3;
    for (int i = 1; i < argc && n < 63; i++) args[n++] = argv[i];
    args[n] = NULL;
    execv("/hello", args);
    perror("exec /hello");
    return 1;
}
