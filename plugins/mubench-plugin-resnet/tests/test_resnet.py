from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "resnet"
    task = "cifar100"
    hub_ids = {"18": "microsoft/resnet-18", "34": "microsoft/resnet-34", "50": "microsoft/resnet-50", "tiny": None}

    def local_processor(self):
        from transformers import ConvNextImageProcessorPil

        return ConvNextImageProcessorPil(size={"shortest_edge": 64})
