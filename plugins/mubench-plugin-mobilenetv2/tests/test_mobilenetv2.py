from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "mobilenetv2"
    task = "cifar100"
    hub_ids = {"1.0-224": "google/mobilenet_v2_1.0_224", "tiny": None}

    def local_processor(self):
        from transformers import MobileNetV2ImageProcessorPil

        return MobileNetV2ImageProcessorPil(size={"shortest_edge": 48})
