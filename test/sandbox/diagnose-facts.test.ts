import { describe, expect, test } from "bun:test";
import { findContainerHint, parseBwrapVersion, parseOsRelease, parseSeccompStatus, type ContainerEvidence } from "../../src/sandbox/diagnose-facts.ts";

const UBUNTU_24_04 = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
ID=ubuntu
ID_LIKE=debian
`;

describe("parseOsRelease", () => {
  test("reads ID, ID_LIKE, VERSION_ID and PRETTY_NAME with or without quotes", () => {
    expect(parseOsRelease(UBUNTU_24_04)).toEqual({ id: "ubuntu", idLike: ["debian"], versionId: "24.04", prettyName: "Ubuntu 24.04.1 LTS" });
  });

  test("splits a multi-word ID_LIKE and falls back to ID and VERSION_ID for the name", () => {
    expect(parseOsRelease("ID='rocky'\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=9.3\n")).toEqual({
      id: "rocky",
      idLike: ["rhel", "centos", "fedora"],
      versionId: "9.3",
      prettyName: "rocky 9.3",
    });
  });

  test("gives undefined for a text without ID", () => {
    expect(parseOsRelease("# nothing here\nNAME=x\n")).toBeUndefined();
  });
});

describe("parseSeccompStatus", () => {
  test("reads the mode bunker runs under from the Seccomp line", () => {
    expect(parseSeccompStatus("Name:\tbun\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n")).toEqual({ supported: true, mode: 2 });
  });

  test("says unsupported when the kernel has no Seccomp line at all", () => {
    expect(parseSeccompStatus("Name:\tbun\nNoNewPrivs:\t0\n")).toEqual({ supported: false, mode: undefined });
  });
});

test("parseBwrapVersion takes the version out of bwrap --version", () => {
  expect(parseBwrapVersion("bubblewrap 0.8.0\n")).toBe("0.8.0");
  expect(parseBwrapVersion("bubblewrap 0.11\n")).toBe("0.11");
  expect(parseBwrapVersion("nonsense")).toBeUndefined();
});

describe("findContainerHint", () => {
  const none: ContainerEvidence = { dockerenvExists: false, containerenvExists: false, pid1ContainerVariable: undefined, pid1Cgroup: "0::/\n" };

  test("finds nothing on a plain host", () => {
    expect(findContainerHint(none)).toBeUndefined();
  });

  test("names the sign that gave each runtime away", () => {
    expect(findContainerHint({ ...none, dockerenvExists: true })).toEqual({ kind: "docker", evidence: "/.dockerenv exists" });
    expect(findContainerHint({ ...none, containerenvExists: true })).toEqual({ kind: "podman", evidence: "/run/.containerenv exists" });
    expect(findContainerHint({ ...none, pid1ContainerVariable: "lxc" })).toEqual({ kind: "lxc", evidence: "pid 1 has container=lxc" });
    expect(findContainerHint({ ...none, pid1ContainerVariable: "wsl" })).toEqual({ kind: "other", evidence: "pid 1 has container=wsl" });
    expect(findContainerHint({ ...none, pid1Cgroup: "12:pids:/docker/3f2a\n" })).toEqual({ kind: "docker", evidence: "/proc/1/cgroup names docker" });
    expect(findContainerHint({ ...none, pid1Cgroup: "0::/system.slice/containerd.service\n" })).toEqual({
      kind: "docker",
      evidence: "/proc/1/cgroup names containerd",
    });
  });

  test("prefers kubernetes over the docker file its nodes also leave", () => {
    expect(findContainerHint({ ...none, dockerenvExists: true, pid1Cgroup: "11:memory:/kubepods/burstable/pod1/abc\n" })).toEqual({
      kind: "kubernetes",
      evidence: "/proc/1/cgroup names kubepods",
    });
  });
});
