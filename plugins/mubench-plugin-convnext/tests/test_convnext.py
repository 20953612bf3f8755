from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "convnext"
    task = "cifar100"
    hub_ids = {"tiny": None, "T": "facebook/convnext-tiny-224", "B": "facebook/convnext-base-224"}

    def local_processor(self):
        from transformers import ConvNextImageProcessorPil

        return ConvNextImageProcessorPil(size={"shortest_edge": 64})
