#!/bin/sh
# Smoke check: the guest sees two NUMA nodes, node 1 without CPUs.
cat /sys/devices/system/node/online
cat /sys/devices/system/node/node1/cpulist
grep MemTotal /sys/devices/system/node/node*/meminfo
insmod /htier/htier.ko && lsmod | grep htier && rmmod htier
