from mubench_harness.testing import UnlearnerContract


class TestContract(UnlearnerContract):
    name = "stablediffusion"
