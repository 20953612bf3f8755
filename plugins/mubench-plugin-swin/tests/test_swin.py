from mubench_harness.testing.families import HFFamilyContract


class TestContract(HFFamilyContract):
    name = "swin"
    task = "cifar100"
    hub_ids = {"tiny": None, "T": "microsoft/swin-tiny-patch4-window7-224", "B": "microsoft/swin-base-patch4-window7-224"}

    def local_processor(self):
        from transformers import ViTImageProcessorPil

        return ViTImageProcessorPil(size={"height": 32, "width": 32})
