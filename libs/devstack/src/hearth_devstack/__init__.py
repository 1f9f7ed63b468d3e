"""Hearth on one machine: embedded broker, process supervisor and test harness, demo seed.

- `hearth_devstack.services`: the one list of services (name, module, port, dependencies).
- `hearth_devstack.stack.Stack`: real processes on free or fixed ports, for `make run`,
  end-to-end tests and benchmarks.
- `hearth_devstack.seed`: the demo council, created through the gateway.
- `hearth_devstack.broker`: the embedded Kafka-protocol broker on its own.
"""
