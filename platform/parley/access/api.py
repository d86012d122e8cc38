"""Access API: who am I, API tokens (platform admins), the event log and task runs (scoped)."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from django.contrib.auth import get_user_model

from parley.events.models import Event
from parley.events.selectors import event_list
from parley.locales.models import Locale
from parley.runs.kinds import run_again_refusal
from parley.runs.models import TaskRun
from parley.runs.services import task_run_again
from parley.runs.workers import waiting_reason
from parley.runs.selectors import task_run_list

from .models import ApiToken
from .permissions import NO_SCOPE_NEEDED
from .scopes import SCOPES
from .scoping import actor_of
from .selectors import token_list, token_unusable_scopes, user_memberships
from .services import TokenMintRefused, token_create, token_revoke


class MembershipSerializer(serializers.Serializer):
    role = serializers.CharField(source="role.slug")
    role_name = serializers.CharField(source="role.name")
    locale = serializers.CharField(source="locale.tag", allow_null=True, default=None)
    proficiency = serializers.CharField()


class MeView(APIView):
    """The caller: user, roles per locale, and the token's scopes and locale limit if one is used."""

    required_scopes = {"read": NO_SCOPE_NEEDED}

    @extend_schema(responses=inline_serializer("Me", {
        "username": serializers.CharField(), "is_platform_admin": serializers.BooleanField(),
        "roles": MembershipSerializer(many=True), "token": serializers.DictField(allow_null=True),
    }))
    def get(self, request):
        actor = actor_of(request)
        token = actor.token
        return Response({
            "username": request.user.get_username(),
            # Platform-wide: a token limited to some locales is not, whoever its user is.
            "is_platform_admin": actor.can("access.add_apitoken")
            and actor.locale_tags("access.add_apitoken") is None,
            "roles": MembershipSerializer(user_memberships(user=request.user), many=True).data,
            "token": None if token is None else {
                "name": token.name, "prefix": token.prefix, "scopes": token.scopes,
                "locales": sorted(token.locales.values_list("tag", flat=True)),
                "expires_at": token.expires_at,
            },
        })


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())
    locales = serializers.SlugRelatedField(slug_field="tag", many=True, queryset=Locale.objects.all(), required=False)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=sorted(SCOPES)), allow_empty=False)
    is_active = serializers.BooleanField(read_only=True)

    unusable_scopes = serializers.SerializerMethodField(
        help_text="scopes the user's roles give no use for anywhere: calls needing them answer 403")

    def get_unusable_scopes(self, token) -> list[str]:
        return token_unusable_scopes(token=token)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "prefix", "scopes", "unusable_scopes", "locales", "expires_at",
                  "last_used_at", "revoked_at",
                  "created_at", "is_active"]
        read_only_fields = ["prefix", "last_used_at", "revoked_at", "created_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ApiTokenSerializer.Meta.fields + ["token"]


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Platform admins manage pipeline tokens. The plaintext token is returned once, at creation.

    A token never grants more than its creator holds (`token_mint_problems`): a creator limited
    to some locales (a token's limit, or roles held in some locales only) mints only for itself,
    inside its locales, scopes and expiry.
    """

    serializer_class = ApiTokenSerializer
    required_scopes = {"read": "tokens:admin", "write": "tokens:admin"}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not actor_of(request).can("access.view_apitoken"):
            raise PermissionDenied("Only platform admins manage API tokens.")

    def get_queryset(self):
        return actor_of(self.request).scope(token_list(), "access.view_apitoken")

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        actor = actor_of(request)
        if not actor.can("access.add_apitoken"):
            raise PermissionDenied("Only platform admins create API tokens.")
        body = ApiTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            token, plaintext = token_create(user=data["user"], name=data["name"], scopes=data["scopes"],
                                            locales=data.get("locales", []), expires_at=data.get("expires_at"),
                                            actor=request.user, creator_token=actor.token)
        except TokenMintRefused as exc:
            raise PermissionDenied(str(exc)) from None
        out = ApiTokenCreatedSerializer(token).data
        out["token"] = plaintext
        return Response(out, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        if not actor_of(request).can("access.change_apitoken"):
            raise PermissionDenied("Only platform admins revoke API tokens.")
        return Response(ApiTokenSerializer(token_revoke(token=token, actor=request.user)).data)


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "created_at", "actor_label", "verb", "target_type", "target_id", "target_repr", "locale_tag",
                  "payload"]


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The event log: everything for platform admins; a lead's own locales for leads."""

    serializer_class = EventSerializer
    filterset_fields = ["verb", "locale_tag", "target_type", "target_id"]
    required_scopes = {"read": "events:read"}

    def get_queryset(self):
        actor = actor_of(self.request)
        if not actor.can("events.view_event"):
            return Event.objects.none()
        return event_list(locale_tags=actor.locale_tags("events.view_event"))


class TaskRunSerializer(serializers.ModelSerializer):
    waiting = serializers.SerializerMethodField(help_text="why a queued run has not started yet, if it waited long")

    class Meta:
        model = TaskRun
        fields = ["id", "kind", "args", "status", "waiting", "locale_tag", "done", "total", "result", "error",
                  "attempts", "created_at", "started_at", "finished_at", "dispatched_at", "dispatch_error",
                  "heartbeat_at", "lost_at"]

    def get_waiting(self, run) -> str:
        return waiting_reason(run=run)


class TaskRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background work and its progress, scoped like the event log."""

    serializer_class = TaskRunSerializer
    filterset_fields = ["kind", "status", "locale_tag"]
    # "run again" answers with the whole run (args, result, error), so it needs runs:read; the
    # scope of the run's own kind of work is asked on top (runs.kinds.run_again_refusal).
    required_scopes = {"read": "runs:read", "POST": "runs:read"}

    def get_queryset(self):
        actor = actor_of(self.request)
        if not actor.can("runs.view_taskrun"):
            return TaskRun.objects.none()
        return task_run_list(locale_tags=actor.locale_tags("runs.view_taskrun"))

    @extend_schema(request=None, responses={202: TaskRunSerializer})
    @action(detail=True, methods=["post"], url_path="run-again")
    def run_again(self, request, pk=None):
        """Queue a failed run again (e.g. one whose worker was lost), as it was. Allowed to who may
        start that kind of work in every locale the run touches."""
        run = self.get_object()
        refusal = run_again_refusal(run=run, actor=actor_of(request))
        if refusal:
            raise PermissionDenied(refusal)
        run = task_run_again(run=run, actor=request.user)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)
