/**
 * Which Linux rpmsg driver binds a channel announced under a name: the
 * bus's match (rpmsg_dev_match: driver_override, then the id_table by
 * strncmp over RPMSG_NAME_SIZE). Mainline drivers first, then the vendor
 * kernels' names that firmware in the field announces.
 */
export interface RpmsgDriverMatch {
  /** The driver that would bind, or null when none does. */
  driver: string | null;
  /** Where it comes from (mainline file or vendor tree). */
  source: string;
  /** What user space gets, or how to bind by hand when nothing matches. */
  note: string;
}

const TABLE: Record<string, RpmsgDriverMatch> = {
  "rpmsg-raw": { driver: "rpmsg_chrdev", source: "drivers/rpmsg/rpmsg_char.c", note: "/dev/rpmsgN bound to the channel's default endpoint" },
  "rpmsg-tty": { driver: "rpmsg_tty", source: "drivers/tty/rpmsg_tty.c (v5.16+)", note: "/dev/ttyRPMSGn" },
  "rpmsg-client-sample": {
    driver: "rpmsg_client_sample",
    source: "samples/rpmsg/rpmsg_client_sample.c",
    note: 'sends "hello world!" at probe and answers up to 100 messages',
  },
  "rpmsg-tty-channel": { driver: "rpmsg_tty", source: "ST and NXP vendor kernels (imx_rpmsg_tty); not mainline", note: "/dev/ttyRPMSGn on vendor kernels" },
  rpmsg_chrdev: { driver: "rpmsg_chrdev", source: "TI and 5.10-era kernels (rpmsg_char by name)", note: "/dev/rpmsg_ctrlN then /dev/rpmsgN (ti-rpmsg-char)" },
  "ti.ipc4.ping-pong": { driver: "rpmsg_client_sample", source: "TI kernels extend rpmsg_client_sample; mainline has no driver", note: "kernel-side echo sample on TI kernels" },
};

/** The driver that binds `name`, or a "none" answer with the driver_override hint. */
export function rpmsgDriverFor(name: string, driverOverride?: string): RpmsgDriverMatch {
  if (driverOverride) return { driver: driverOverride, source: "driver_override", note: `bound through driver_override=${driverOverride}` };
  const hit = TABLE[name.slice(0, 32)];
  if (hit) return hit;
  return {
    driver: null,
    source: "no id_table entry",
    note: `no driver binds '${name}': echo rpmsg_chrdev > /sys/bus/rpmsg/devices/<channel>/driver_override, then echo <channel> > /sys/bus/rpmsg/drivers/rpmsg_chrdev/bind`,
  };
}

/** Every announced name the table knows, for docs and tests. */
export function knownRpmsgNames(): string[] {
  return Object.keys(TABLE);
}
