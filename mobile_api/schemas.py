"""Request schemas of the mobile API. Unknown fields are refused, strings are taken exactly as sent
(the OpenAPI document's lengths and patterns hold for the bytes the phone sends: no stripping that
would let whitespace carry a value past its maxLength; required text must hold a non-blank
character), numbers are finite and bounded; the rules (backend.domain) check the rest."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from backend.web.requests import StrictModel as _ConsoleStrictModel


class StrictModel(_ConsoleStrictModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


NON_BLANK = r"\S"  # at least one character that is not whitespace

Text500 = Annotated[str, Field(max_length=500)]
KEY_PATTERN = r"^[A-Za-z0-9._:~+/=-]{8,255}$"


class PositionIn(StrictModel):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)


class ActionIn(StrictModel):
    """Every action: when it happened on the phone (default: when the server got it) and whether
    the phone queued it offline."""

    occurred_at: AwareDatetime | None = None
    queued_offline: bool = False


class AcknowledgeIn(ActionIn):
    pass


class DeclineIn(ActionIn):
    reason: str = Field(min_length=1, max_length=500, pattern=NON_BLANK)


class ContactIn(ActionIn):
    appointment_at: AwareDatetime


class DepartIn(ActionIn):
    pass


class ArriveIn(ActionIn):
    position: PositionIn | None = None


class HoldIn(ActionIn):
    reason: Literal["waiting_for_parts", "customer_absent", "other"]
    note: Text500 = ""


class ResumeIn(ActionIn):
    pass


class ReportIn(StrictModel):
    arrival_time: AwareDatetime
    completion_time: AwareDatetime
    fault_description: str = Field(min_length=1, max_length=2000, pattern=NON_BLANK)
    faulty_part: str = Field(default="", max_length=500)
    repair_method: str = Field(min_length=1, max_length=2000, pattern=NON_BLANK)
    running_hours: float = Field(ge=0, le=10_000_000, allow_inf_nan=False)
    customer_opinion: str = Field(default="", max_length=1000)


class CompleteIn(ActionIn):
    report: ReportIn | None = None  # may be omitted after signing: the signed report is used
    position: PositionIn | None = None


class PointIn(StrictModel):
    x: float = Field(ge=-100_000, le=100_000, allow_inf_nan=False)
    y: float = Field(ge=-100_000, le=100_000, allow_inf_nan=False)
    t: float = Field(ge=0, le=86_400_000, allow_inf_nan=False)  # ms since the pad opened


class SignatureIn(StrictModel):
    signer_name: str = Field(min_length=1, max_length=100, pattern=NON_BLANK)
    signer_role: Literal["customer", "customer_representative"] = "customer"
    signed_at: AwareDatetime
    report: ReportIn
    strokes: list[Annotated[list[PointIn], Field(min_length=1, max_length=5000)]] | None = Field(
        default=None, min_length=1, max_length=200)
    image_png_base64: str | None = Field(default=None, min_length=1, max_length=360_000)
    position: PositionIn | None = None
    queued_offline: bool = False

    @model_validator(mode="after")
    def _strokes_or_image(self) -> SignatureIn:
        if self.strokes is None and self.image_png_base64 is None:
            raise ValueError("send the strokes, the PNG image, or both")
        return self


class PhotoIn(StrictModel):
    content_type: Literal["image/jpeg", "image/png"]
    data_base64: str = Field(min_length=4, max_length=700_000)
    caption: Text500 = ""
    taken_at: AwareDatetime | None = None


class DeviceIn(StrictModel):
    token: str = Field(min_length=1, max_length=1024, pattern=r"^[\x21-\x7e]+$")
    platform: Literal["android", "ios", "web"]
    app_version: str = Field(default="", max_length=32)


class DeviceUpdateIn(StrictModel):
    token: str | None = Field(default=None, min_length=1, max_length=1024, pattern=r"^[\x21-\x7e]+$")
    app_version: str | None = Field(default=None, max_length=32)


class ListQuery(StrictModel):
    scope: Literal["active", "history"] = "active"
    state: str | None = Field(default=None, max_length=200)  # comma-separated states
    kind: str | None = Field(default=None, max_length=200)  # comma-separated kinds
    limit: int = Field(default=50, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class PageQuery(StrictModel):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


# --- the batch: a phone's queued actions, each with its own key ------------------------------


class ItemMeta(StrictModel):
    idempotency_key: str = Field(pattern=KEY_PATTERN)
    seq: int = Field(ge=0, le=2**31 - 1)  # the phone's queue order, for equal occurred_at
    work_order_id: int = Field(ge=1, le=2**31 - 1)


class AcknowledgeItem(AcknowledgeIn, ItemMeta):
    action: Literal["acknowledge"]


class DeclineItem(DeclineIn, ItemMeta):
    action: Literal["decline"]


class ContactItem(ContactIn, ItemMeta):
    action: Literal["contact"]


class DepartItem(DepartIn, ItemMeta):
    action: Literal["depart"]


class ArriveItem(ArriveIn, ItemMeta):
    action: Literal["arrive"]


class HoldItem(HoldIn, ItemMeta):
    action: Literal["hold"]


class ResumeItem(ResumeIn, ItemMeta):
    action: Literal["resume"]


class CompleteItem(CompleteIn, ItemMeta):
    action: Literal["complete"]


BatchItem = Annotated[
    AcknowledgeItem | DeclineItem | ContactItem | DepartItem | ArriveItem | HoldItem | ResumeItem | CompleteItem,
    Field(discriminator="action"),
]
MAX_BATCH = 500


class BatchIn(StrictModel):
    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


ACTION_SCHEMAS: dict[str, type[ActionIn]] = {
    "acknowledge": AcknowledgeIn, "decline": DeclineIn, "contact": ContactIn, "depart": DepartIn,
    "arrive": ArriveIn, "hold": HoldIn, "resume": ResumeIn, "complete": CompleteIn,
}
